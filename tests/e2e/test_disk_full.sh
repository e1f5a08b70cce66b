#!/usr/bin/env bash
# A full disk, on the restore target or under the repository, is a clear error (exit 13) that
# loses nothing: the repository stays consistent and earlier snapshots still restore.
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/src" "$T/small"
head -c 6000000 /dev/urandom > "$T/src/big.bin"
echo small > "$T/src/small.txt"
init_repo
a backup --repo "$REPO" "$T/src" -q
mount -t tmpfs -o size=3m tmpfs "$T/small" || fail "cannot mount a small tmpfs (the test needs root)"

step "restore onto a full disk"
expect_exit 13 a restore --repo "$REPO" latest --target "$T/small/out"
err_contains "No space left"
err_contains "free space"

rm -rf "$T/small/out"

step "backup into a repository on a full disk"
mkdir -p "$T/small/src"; echo first > "$T/small/src/a.txt"
init_repo "$T/small/repo"
a backup --repo "$T/small/repo" "$T/small/src" -q
expect_exit 13 a backup --repo "$T/small/repo" "$T/src"
err_contains "No space left"
a check --repo "$T/small/repo" -q
[ "$(a snapshots --repo "$T/small/repo" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] || fail "a failed backup left a snapshot"
rm -rf "$T/out2"
a restore --repo "$T/small/repo" latest --target "$T/out2" -q
cmp "$T/small/src/a.txt" "$T/out2/src/a.txt" || fail "earlier snapshot damaged"
echo PASS
