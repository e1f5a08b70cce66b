#!/usr/bin/env bash
# No global lock: backups running at the same time into one repository all succeed, and the
# repository stays consistent.
source "$(dirname "$0")/lib.sh"

for d in a b c; do
  mkdir -p "$T/$d"
  for i in $(seq 1 5); do head -c 400000 /dev/urandom > "$T/$d/f$i.bin"; done
  cp "$T/a/f1.bin" "$T/$d/shared.bin" 2>/dev/null || true   # shared content across sources
done
init_repo
for round in 1 2 3; do
  pids=()
  for d in a b c; do
    head -c 100000 /dev/urandom > "$T/$d/round$round.bin"
    "$ARCA" backup --repo "$REPO" "$T/$d" --host "host-$d" -q & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || fail "a concurrent backup failed in round $round"; done
done
[ "$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 9 ] || fail "9 snapshots expected"
a check --repo "$REPO" --read-data -q
for d in a b c; do
  id=$(a snapshots --repo "$REPO" --host "host-$d" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
  a restore --repo "$REPO" "$id" --target "$T/out-$d" -q
  diff -r "$T/$d" "$T/out-$d/$d" || fail "restore of $d differs"
done
echo PASS
