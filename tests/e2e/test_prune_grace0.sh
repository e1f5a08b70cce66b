#!/usr/bin/env bash
# `prune --grace 0` racing backups (issue 17 A4): it deletes at once, so it must never run while a
# backup writes, and a backup must never start while it runs. Whatever the timing, no backup
# reports "saved" for a recovery point that then fails check or restores differently.
source "$(dirname "$0")/lib.sh"
init_repo "$REPO" --pack-size 1
SRC=$T/src
mkdir -p "$SRC"

refused=0
for round in 1 2 3; do
  step "round $round: backup under way, prune --grace 0 meanwhile"
  rm -rf "$SRC"; mkdir -p "$SRC"
  for i in $(seq 1 12); do head -c 2000000 /dev/urandom > "$SRC/f$i"; done
  a forget --repo "$REPO" --keep-last 1 -q 2>/dev/null || true
  ( ARCA_TEST_WRITER_PACK_MS=100 "$ARCA" backup --repo "$REPO" "$SRC" --tag "r$round" -q > "$T/b.out" 2> "$T/b.err"
    echo $? > "$T/b.rc" ) &
  sleep 0.7
  set +e
  "$ARCA" prune --repo "$REPO" --grace 0 -q > "$T/p.out" 2> "$T/p.err"
  prc=$?
  set -e
  wait
  brc=$(cat "$T/b.rc")
  echo "backup exit $brc, prune exit $prc"
  if [ "$prc" = 16 ]; then
    refused=$((refused + 1))
    grep -q "backup(s) are running" "$T/p.err" || { cat "$T/p.err"; fail "prune refused for another reason"; }
  else
    [ "$prc" = 0 ] || { cat "$T/p.err"; fail "prune failed (exit $prc)"; }
  fi
  if [ "$brc" = 0 ]; then
    a check --repo "$REPO" --read-data -q || fail "round $round: a saved recovery point fails check"
    rm -rf "$T/out"
    a restore --repo "$REPO" latest --target "$T/out" -q
    same_tree "$SRC" "$T/out/src"
  fi
done
[ "$refused" -ge 1 ] || fail "prune --grace 0 never overlapped a backup: the test proves nothing"

# That a backup does not start while prune --grace 0 runs is tested in-process, with prune held
# mid-way by the pausing backend (tests/unit/test_prune_faults.cpp).

step "a crashed backup's registration: same host, process gone, cleaned up by prune --grace 0"
head -c 500000 /dev/urandom > "$SRC/h1"
( ARCA_TEST_WRITER_PACK_MS=3000 exec "$ARCA" backup --repo "$REPO" "$SRC" -q ) &
bpid=$!
sleep 1
kill -9 "$bpid" || fail "the backup ended before it could be killed"
wait "$bpid" 2>/dev/null || true
ls "$REPO/writers" | grep -q . || fail "the killed backup left no registration (test premise)"
a prune --repo "$REPO" --grace 0 -q
[ -z "$(ls "$REPO/writers")" ] || fail "a stale registration was kept"
a check --repo "$REPO" -q

step "arca unlock: removes what crashed processes left, keeps what runs unless --remove-all"
head -c 500000 /dev/urandom > "$SRC/h2"
( ARCA_TEST_WRITER_PACK_MS=3000 exec "$ARCA" backup --repo "$REPO" "$SRC" -q ) &
bpid=$!
sleep 1
kill -9 "$bpid" || fail "the backup ended before it could be killed"
wait "$bpid" 2>/dev/null || true
head -c 500000 /dev/urandom > "$SRC/h3"
( ARCA_TEST_WRITER_PACK_MS=4000 "$ARCA" backup --repo "$REPO" "$SRC" -q 2>/dev/null || true ) &
sleep 1
a unlock --repo "$REPO" > "$T/u.out"
grep -q "removed 1 stale lock" "$T/u.out" || { cat "$T/u.out"; fail "unlock did not remove the dead backup's registration"; }
grep -q "kept: backup registration" "$T/u.out" || { cat "$T/u.out"; fail "unlock removed a running backup's registration"; }
# Not even --remove-all removes the lock of a process running on this host (a grace-0 prune
# could then delete that backup's data); it ends with its backup.
a unlock --repo "$REPO" --remove-all -q
ls "$REPO/writers" | grep -q . || fail "unlock --remove-all removed a running backup's registration"
wait
[ -z "$(ls "$REPO/writers")" ] || fail "the backup's registration outlived it"
step "--dry-run speaks in the conditional, also about rescued packs"
R2=$T/repo2
init_repo "$R2" --pack-size 1
mkdir -p "$T/d2"; head -c 3000000 /dev/urandom > "$T/d2/x"
a backup --repo "$R2" "$T/d2" -q
# A backup that read the index before the mark reuses x (and stores y, slowly); it publishes
# after the mark.
head -c 100000 /dev/urandom > "$T/d2/y"
( ARCA_TEST_WRITER_PACK_MS=2500 "$ARCA" backup --repo "$R2" "$T/d2" --tag late -q ) &
sleep 0.8
first=$(a snapshots --repo "$R2" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
a forget --repo "$R2" "$first" --yes -q
a prune --repo "$R2" --grace 1h -q   # marks x's packs: no recovery point needs them now
wait
a prune --repo "$R2" --grace 0 --dry-run > "$T/dry.out"
cat "$T/dry.out"
grep -q "would be kept" "$T/dry.out" || fail "the dry run did not report the rescue in the conditional"
grep -Eq "^(deleted|marked|repacked) | were kept" "$T/dry.out" && fail "the dry run speaks in the past tense"
a prune --repo "$R2" --grace 0 -q
a check --repo "$R2" --read-data -q
echo PASS
