#!/usr/bin/env bash
# Errors an operator meets must be clear, have documented exit codes, and lose nothing.
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/src"; echo hello > "$T/src/a.txt"
init_repo
a backup --repo "$REPO" "$T/src" -q

step "wrong password: exit 11"
ARCA_PASSWORD=wrong expect_exit 11 a snapshots --repo "$REPO"
err_contains "wrong password"

step "password from a file"
echo correct-horse > "$T/pwfile"
ARCA_PASSWORD= ARCA_PASSWORD_FILE="$T/pwfile" a snapshots --repo "$REPO" -q >/dev/null
(unset ARCA_PASSWORD; a snapshots --repo "$REPO" --password-file "$T/pwfile" >/dev/null)

step "no password and no terminal: exit 2 with advice"
(unset ARCA_PASSWORD; expect_exit 2 setsid "$ARCA" snapshots --repo "$REPO" < /dev/null)
err_contains "ARCA_PASSWORD"

step "missing repository: exit 10"
expect_exit 10 a snapshots --repo "$T/nope"
err_contains "does not exist"
expect_exit 2 a snapshots
err_contains "ARCA_REPOSITORY"
mkdir "$T/notrepo"
expect_exit 10 a snapshots --repo "$T/notrepo"
err_contains "not an Arca repository"

step "init refuses an existing repository"
expect_exit 15 init_repo
err_contains "already exists"

step "unsupported format version: exit 14"
cp -a "$REPO" "$T/future"
key=$(ls "$T/future/keys" | head -1)
sed -i 's/"arca_format": 1/"arca_format": 9/' "$T/future/keys/$key"
expect_exit 14 a snapshots --repo "$T/future"
err_contains "format version 9"

step "malformed arguments: exit 2"
expect_exit 2 a backup --repo "$REPO"
expect_exit 2 a restore --repo "$REPO" latest
expect_exit 2 a check --repo "$REPO" --read-data-subset=abc
err_contains "percentage"
expect_exit 2 a frobnicate
expect_exit 2 a init --repo "$T/r2" --chunk-avg 1000
err_contains "power of two"

step "unknown snapshot: exit 10"
expect_exit 10 a restore --repo "$REPO" deadbeef --target "$T/x"
err_contains "no snapshot deadbeef"

step "missing source path: exit 10, nothing saved"
expect_exit 10 a backup --repo "$REPO" "$T/does-not-exist"
[ "$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] || fail "a failed backup left a snapshot"

step "corrupt config object is named: exit 12"
cp -a "$REPO" "$T/bad"
flip_byte "$T/bad/config" 40
expect_exit 12 a snapshots --repo "$T/bad"
err_contains "config"

step "a damaged snapshot object is named, skipped by listing, and fails check"
cp -a "$REPO" "$T/bad2"
a backup --repo "$T/bad2" "$T/src" -q
snap=$(ls "$T/bad2/snapshots" | head -1)
truncate -s 20 "$T/bad2/snapshots/$snap"
expect_exit 0 a snapshots --repo "$T/bad2"
err_contains "snapshots/$snap"
expect_exit 0 a restore --repo "$T/bad2" latest --target "$T/restore-bad2"
expect_exit 12 a check --repo "$T/bad2"
err_contains "snapshots/$snap"

step "an object copied over another one fails authentication"
cp -a "$REPO" "$T/swap"
a backup --repo "$T/swap" "$T/src" -q
s1=$(ls "$T/swap/snapshots" | sed -n 1p); s2=$(ls "$T/swap/snapshots" | sed -n 2p)
cp "$T/swap/snapshots/$s1" "$T/swap/snapshots/$s2"
expect_exit 12 a restore --repo "$T/swap" "${s2:0:12}" --target "$T/swapped"
err_contains "failed authentication"

step "help on every command"
for c in init backup snapshots ls restore diff cat check stats "key list" "key add" "key remove" "key passwd" "key rotate"; do
  a $c --help > "$T/help" || fail "$c --help failed"
  grep -q -- "--repo" "$T/help" || fail "$c --help lacks --repo"
done
a --help | grep -q "Exit codes" || fail "main help lacks exit codes"
echo PASS
