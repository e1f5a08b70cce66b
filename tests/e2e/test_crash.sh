#!/usr/bin/env bash
# Kill running backups at random moments, many times: every time the repository must pass
# `check`, and at the end every snapshot that was saved must restore identically.
source "$(dirname "$0")/lib.sh"

ROUNDS=${ARCA_CRASH_ROUNDS:-25}
SRC=$T/src
mkdir -p "$SRC" "$T/states"
for i in $(seq 1 12); do head -c $((RANDOM * 40 + 100000)) /dev/urandom > "$SRC/r$i.bin"; done
for i in $(seq 1 200); do echo "small $i $RANDOM" > "$SRC/s$i.txt"; done
seq 1 300000 > "$SRC/text.txt"
a init --repo "$REPO" --kdf-memory 8192 --kdf-time 1 --pack-size 1 --chunk-min 64 --chunk-avg 256 --chunk-max 1024 -q

snapshot_count() { a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
record_state() {  # copy the source for the newest snapshot
  local id
  id=$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
  [ -d "$T/states/$id" ] || cp -a "$SRC" "$T/states/$id"
}

a backup --repo "$REPO" "$SRC" -q
record_state
killed=0
after=$(snapshot_count)  # each round's count before is the last round's after (check adds none)
for round in $(seq 1 "$ROUNDS"); do
  # Change ~15% of the data so each backup has real work to do.
  n=$((RANDOM % 12 + 1))
  head -c $((RANDOM * 20 + 50000)) /dev/urandom >> "$SRC/r$n.bin"
  head -c 4000000 /dev/urandom > "$SRC/new$round.bin"
  echo "round $round" >> "$SRC/s$((RANDOM % 200 + 1)).txt"
  before=$after
  "$ARCA" backup --repo "$REPO" "$SRC" -q --threads 1 &
  pid=$!
  sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null || true
  # The repository must be consistent whatever moment the kill hit.
  a check --repo "$REPO" -q || fail "check failed after kill in round $round"
  after=$(snapshot_count)
  if [ "$after" -gt "$before" ]; then record_state; fi
done
echo "killed $killed of $ROUNDS backups mid-way"
[ "$killed" -ge $((ROUNDS / 3)) ] || fail "too few backups were actually interrupted ($killed)"

step "a backup after all the crashes completes"
a backup --repo "$REPO" "$SRC" -q
record_state
a check --repo "$REPO" --read-data -q

step "every saved snapshot restores identically"
for id in $(ls "$T/states"); do
  rm -rf "$T/out"
  a restore --repo "$REPO" "$id" --target "$T/out" -q
  diff -r "$T/states/$id" "$T/out/src" > /dev/null || fail "snapshot $id does not restore identically"
done
echo "restored $(ls "$T/states" | wc -l) snapshots"
echo PASS
