#!/usr/bin/env bash
# prune killed (SIGKILL) at random moments of a real process: after each kill the repository
# passes check and every kept recovery point is intact; the lock the dead prune left is taken
# over; a final run finishes the job. A death at every single backend call is tested in-process
# (tests/unit/test_prune_faults.cpp); this test keeps what only a real process shows: temporary
# files and the prune lock of a dead process, on a real filesystem.
source "$(dirname "$0")/lib.sh"
init_repo "$REPO" --pack-size 1
SRC=$T/src
mkdir -p "$SRC" "$T/states"
day=0
backup_day() {
  day=$((day + 1))
  for k in 1 2 3; do head -c 120000 /dev/urandom > "$SRC/d${day}_$k"; done
  rm -f "$SRC"/d$((day - 2))_*
  cp -a "$SRC" "$T/states/day$day"
  a backup --repo "$REPO" "$SRC" --tag "day$day" -q
}
for i in $(seq 1 12); do backup_day; done
kept() { a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; [print(s["id"], s["tags"][0]) for s in json.load(sys.stdin)]'; }
verify_kept() {
  while read -r id tag; do
    rm -rf "$T/out"
    a restore --repo "$REPO" "$id" --target "$T/out" -q
    same_tree "$T/states/$tag" "$T/out/src"
  done < "$T/kept"
}

interrupted=0
for round in $(seq 1 10); do
  backup_day; backup_day
  a forget --repo "$REPO" --keep-last 4 -q
  kept > "$T/kept"
  # How long a whole prune takes here, on a copy: the kill lands at a random moment within it.
  rm -rf "$T/copy"; cp -a "$REPO" "$T/copy"
  t0=$(date +%s.%N)
  a prune --repo "$T/copy" --grace 0 --max-unused 10% -q
  delay=$(python3 -c "import random; print(round(random.uniform(0.005, ($(date +%s.%N) - $t0) * 0.9), 3))")
  "$ARCA" prune --repo "$REPO" --grace 0 --max-unused 10% -q &
  pid=$!
  sleep "$delay"
  state=finished
  # (A zombie has finished: killing it proves nothing.)
  if ! grep -q ') Z' "/proc/$pid/stat" 2>/dev/null && kill -9 "$pid" 2>/dev/null; then
    state=killed; interrupted=$((interrupted + 1))
  fi
  wait "$pid" 2>/dev/null || true
  a check --repo "$REPO" -q || fail "check failed after prune was killed after ${delay}s (round $round)"
  kept | cmp -s - "$T/kept" || fail "the kept recovery points changed"
  verify_kept
  echo "round $round: $state after ${delay}s; check passes, kept recovery points restore"
done
[ "$interrupted" -ge 3 ] || fail "only $interrupted of 10 prunes were interrupted: the test proves little"

step "a final prune takes over the dead one's lock and finishes; everything kept restores"
a prune --repo "$REPO" --grace 0 --max-unused 10% -q
a prune --repo "$REPO" --grace 0 --max-unused 10% --json > "$T/again.json"
[ "$(json_field "$T/again.json" '["deleted_packs"]')" = 0 ] || fail "the finishing run left garbage"
a check --repo "$REPO" --read-data -q 2> "$T/check.err"
verify_kept

echo PASS
