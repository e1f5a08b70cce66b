#!/usr/bin/env bash
# Guards a second new-user review asked for: `unlock --remove-all` never removes the registration
# of a backup running on this host, and a backup whose registration vanished does not publish;
# `key rotate` never reuses the number of a missing keyring entry; a `--keep-tag` that no point
# carries is refused instead of removing points.
source "$(dirname "$0")/lib.sh"
init_repo
export ARCA_REPOSITORY=$REPO
mkdir -p "$T/src"; echo base > "$T/src/base"
a backup "$T/src" -q
head -c 300M /dev/zero | openssl enc -aes-128-ctr -pass pass:x -nosalt 2>/dev/null > "$T/src/big"

# Starts a backup in the background and waits until it has registered in writers/.
start_backup() {
  a backup "$T/src" --threads 1 > "$T/bk.out" 2>&1 & BK=$!
  for _ in $(seq 1 200); do [ -n "$(ls "$REPO/writers" 2>/dev/null)" ] && return 0; sleep 0.05; done
  fail "the backup never registered"
}

step "unlock --remove-all keeps the registration of a backup running on this host"
start_backup
a unlock --remove-all > "$T/unlock.out"
grep -q "kept: backup registration" "$T/unlock.out" || { cat "$T/unlock.out" >&2; fail "unlock --remove-all removed a live backup's registration"; }
wait $BK || fail "the backup failed: $(cat "$T/bk.out")"

step "a backup whose registration was removed while it ran does not publish"
n=$(ls "$REPO/snapshots" | wc -l)
echo more >> "$T/src/base"; head -c 1M /dev/urandom >> "$T/src/big"
start_backup
rm -f "$REPO"/writers/*
set +e; wait $BK; rc=$?; set -e
[ "$rc" = 16 ] || { cat "$T/bk.out" >&2; fail "expected exit 16 (conflict), got $rc"; }
grep -q "registration .* was removed while it ran" "$T/bk.out" || { cat "$T/bk.out" >&2; fail "no reason given"; }
[ "$(ls "$REPO/snapshots" | wc -l)" = "$n" ] || fail "a point was published without its registration"
a check -q

step "key rotate never reuses the number of a missing keyring entry"
a key rotate -q
echo v2 > "$T/src/base"; a backup "$T/src" -q
mv "$REPO/keyring/00000002" "$T/keyring-2"
expect_exit 15 a key rotate
err_contains "sealed with data key version 2"
[ ! -e "$REPO/keyring/00000002" ] || fail "key rotate wrote a new keyring/00000002"
mv "$T/keyring-2" "$REPO/keyring/00000002"
a key rotate -q
[ -e "$REPO/keyring/00000003" ] || fail "key rotate after the entry came back did not add version 3"
a restore latest --target "$T/out" -q
[ "$(cat "$T/out/src/base")" = v2 ] || fail "the version-2 point does not restore"

step "forget --keep-tag that no point carries is refused (a typo would remove points)"
before=$(ls "$REPO/snapshots" | wc -l)
expect_exit 10 a forget --keep-tag nightyl --yes
err_contains "no recovery point carries tag 'nightyl'"
[ "$(ls "$REPO/snapshots" | wc -l)" = "$before" ] || fail "forget removed points for a --keep-tag typo"
echo PASS
