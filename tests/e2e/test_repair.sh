#!/usr/bin/env bash
# The ways out of damage: a damaged snapshot object blocks prune until `repair snapshots`
# removes it; a lost data key version is named by check with what it seals, and points of other
# versions still restore; a damaged key file is reported as damaged, not as a wrong password.
source "$(dirname "$0")/lib.sh"

init_repo
mkdir -p "$T/src"
head -c 120000 /dev/urandom > "$T/src/a.bin"
a backup --repo "$REPO" "$T/src" -q
first=$(ls "$REPO/snapshots")
echo two > "$T/src/b.txt"
a backup --repo "$REPO" "$T/src" -q
second=$(ls "$REPO/snapshots" | grep -v "$first")

step "a damaged snapshot stops prune, and the error says what to run"
truncate -s 20 "$REPO/snapshots/$second"
expect_exit 12 a prune --repo "$REPO"
err_contains "snapshots/$second"
err_contains "arca repair snapshots"
expect_exit 12 a restore --repo "$REPO" "${second:0:8}" --target "$T/nothing"
err_contains "arca forget ${second:0:8}"
# Named explicitly, forget removes it, but only when confirmed (what it held cannot be shown).
expect_exit 15 a forget --repo "$REPO" "${second:0:8}" < /dev/null
err_contains "snapshots/$second cannot be read"
[ -e "$REPO/snapshots/$second" ] || fail "forget removed a damaged point without confirmation"

step "repair snapshots lists it, asks, and removes it with --yes"
expect_exit 0 a repair snapshots --repo "$REPO" --dry-run
err_contains "snapshots/$second"
[ -e "$REPO/snapshots/$second" ] || fail "--dry-run removed the snapshot"
expect_exit 15 a repair snapshots --repo "$REPO" < /dev/null
[ -e "$REPO/snapshots/$second" ] || fail "removed without confirmation"
a repair snapshots --repo "$REPO" --yes -q
[ -e "$REPO/snapshots/$second" ] && fail "the damaged snapshot is still there"
[ -e "$REPO/snapshots/$first" ] || fail "the intact snapshot was removed"

step "prune runs again; the intact point still restores"
a prune --repo "$REPO" --grace 0 -q
a check --repo "$REPO" --read-data -q
a restore --repo "$REPO" "${first:0:8}" --target "$T/out" -q
cmp "$T/src/a.bin" "$T/out/src/a.bin" || fail "restored file differs"

step "an append-only key cannot repair (exit 15), and says why"
echo host-pw > "$T/host-pw"
a key add --repo "$REPO" --append-only --new-password-file "$T/host-pw" --kdf-memory 8192 --kdf-time 1 -q
expect_exit 15 a repair index --repo "$REPO" --password-file "$T/host-pw"
err_contains "append-only"

step "a lost data key version: check names it and what is sealed with it; older points restore"
a key rotate --repo "$REPO" -q
echo three > "$T/src/c.txt"
a backup --repo "$REPO" "$T/src" -q
cp "$REPO/keyring/00000002" "$T/kr2"
truncate -s 30 "$REPO/keyring/00000002"     # damaged: the repository still opens
expect_exit 12 a check --repo "$REPO"
err_contains "keyring/00000002"
err_contains "data key version 2 is not available"
a restore --repo "$REPO" "${first:0:8}" --target "$T/out-damaged-kr" -q 2>/dev/null
cmp "$T/src/a.bin" "$T/out-damaged-kr/src/a.bin" || fail "a point of key version 1 does not restore"
rm "$REPO/keyring/00000002"                 # lost
expect_exit 12 a check --repo "$REPO"
err_contains "keyring/00000002"
err_contains "data key version 2 is not available"
grep "keyring/00000002" "$T/err" | grep -q "snapshots/" || fail "check does not say which snapshot needs key version 2"
grep -q harmless "$T/.stdout" && fail "check calls packs of a lost key version harmless"
rm -rf "$T/out"
a restore --repo "$REPO" "${first:0:8}" --target "$T/out" -q 2>/dev/null
cmp "$T/src/a.bin" "$T/out/src/a.bin" || fail "a point of key version 1 does not restore"

step "a damaged key file is reported as damaged, and check names it"
key_of() { a key list --repo "$REPO" --json | python3 -c 'import json,sys; print([k["id"] for k in json.load(sys.stdin) if k["role"]==sys.argv[1]][0])' "$1"; }
full=$(key_of full)
host=$(key_of append-only)
truncate -s 50 "$REPO/keys/$full"
expect_exit 12 a check --repo "$REPO" --password-file "$T/host-pw"
err_contains "keys/$full"
err_contains "key file is damaged"
# Another key could still be tried: the password fits none (exit 11), and the damaged one is named.
expect_exit 11 a snapshots --repo "$REPO"
err_contains "damaged key file"
err_contains "keys/$full"
# Only damaged key files could have fitted: damage (exit 12), not a wrong password.
truncate -s 50 "$REPO/keys/$host"
expect_exit 12 a snapshots --repo "$REPO"
err_contains "damaged key file"
grep -q "wrong password" "$T/err" && fail "a damaged key file is called a wrong password"

step "forget ID removes a damaged point when confirmed; a lock naming it still protects it"
R2=$T/repo2
init_repo "$R2"
a key add --repo "$R2" --append-only --new-password-file "$T/host-pw" --kdf-memory 8192 --kdf-time 1 -q
mkdir -p "$T/s2"
for n in 1 2 3; do echo "v$n" > "$T/s2/f.txt"; a backup --repo "$R2" "$T/s2" -q; done
mapfile -t ids < <(a snapshots --repo "$R2" --json | python3 -c 'import json,sys; [print(s["id"]) for s in json.load(sys.stdin)]')
a lock add --repo "$R2" --mode legal-hold --reason test "${ids[1]:0:8}" -q
truncate -s 20 "$R2/snapshots/${ids[1]}" "$R2/snapshots/${ids[2]}"
expect_exit 15 a forget --repo "$R2" "${ids[1]:0:8}" --yes
err_contains "legal hold"
[ -e "$R2/snapshots/${ids[1]}" ] || fail "forget removed a locked damaged point"
expect_exit 15 a forget --repo "$R2" "${ids[2]:0:8}" --yes --password-file "$T/host-pw"
err_contains "append-only"
[ -e "$R2/snapshots/${ids[2]}" ] || fail "an append-only key removed a damaged point"
expect_exit 0 a forget --repo "$R2" "${ids[2]:0:8}" --yes
[ -e "$R2/snapshots/${ids[2]}" ] && fail "forget --yes left the damaged point"
[ -e "$R2/snapshots/${ids[0]}" ] || fail "forget removed another point"
# A policy never removes damaged points (it cannot see what they are).
a forget --repo "$R2" --keep-last 1 --yes -q 2>/dev/null
[ -e "$R2/snapshots/${ids[1]}" ] || fail "a policy forget removed a damaged point"
# Nor does repair snapshots remove a damaged point an active lock names (exit 12: prune stays blocked).
expect_exit 12 a repair snapshots --repo "$R2" --yes
err_contains "protected by legal hold"
[ -e "$R2/snapshots/${ids[1]}" ] || fail "repair snapshots removed a locked damaged point"

step "check during a running backup: its unindexed packs belong to that backup, not an interrupted one"
R3=$T/repo3
init_repo "$R3"
mkdir -p "$T/big"
head -c 120M /dev/urandom > "$T/big/f"
a backup --repo "$R3" "$T/big" -q &
bpid=$!
for _ in $(seq 1 300); do
  [ -n "$(find "$R3/data" -type f 2>/dev/null | head -1)" ] && break
  sleep 0.05
done
kill -STOP "$bpid"
a check --repo "$R3" > "$T/check.out" 2>&1 || true
kill -CONT "$bpid"
wait "$bpid"
if grep -q "in no index" "$T/check.out"; then
  grep -q "a backup is running" "$T/check.out" || { cat "$T/check.out"; fail "check does not name the running backup"; }
  grep -q "interrupted backup" "$T/check.out" && fail "check calls a running backup's packs interrupted"
fi
echo PASS
