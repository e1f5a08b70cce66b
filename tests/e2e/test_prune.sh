#!/usr/bin/env bash
# arca prune over a history of daily mutations: dry run changes nothing and reports the space,
# a first run only marks, a run inside the grace period waits, a run after it deletes; repacking
# of mostly-unused packs; every kept recovery point restores byte-identical; the WAL-free
# repository passes check --read-data after each step.
source "$(dirname "$0")/lib.sh"
init_repo "$REPO" --pack-size 1
SRC=$T/src
mkdir -p "$SRC" "$T/states"
for i in $(seq 1 20); do head -c 400000 /dev/urandom > "$SRC/base$i"; done
for day in $(seq 1 12); do
  head -c 300000 /dev/urandom > "$SRC/new$day"                     # a new file
  rm -f "$SRC/base$day"                                            # one gone
  head -c 50000 /dev/urandom | dd of="$SRC/base20" bs=1 seek=$((day * 7000)) conv=notrunc status=none  # one changed
  a backup --repo "$REPO" "$SRC" --tag "day$day" -q
  cp -a "$SRC" "$T/states/day$day"
done
bytes() { du -sb "$REPO/data" | cut -f1; }
packs() { (cd "$REPO" && find data meta -type f | sort); }
still_there() { packs > "$T/now"; comm -23 "$1" "$T/now" | grep -q . && fail "packs were deleted: $(comm -23 "$1" "$T/now" | head -3)"; true; }

step "forget half, then a dry run: nothing changes, the space to free is reported"
a forget --repo "$REPO" --keep-last 6 -q
before=$(bytes)
packs > "$T/packs0"
a prune --repo "$REPO" --dry-run --json > "$T/dry.json"
packs | cmp -s - "$T/packs0" || fail "dry run changed the repository"
[ "$(json_field "$T/dry.json" '["marked_packs"]')" -gt 0 ] || fail "dry run found nothing to mark"
[ "$(json_field "$T/dry.json" '["deleted_packs"]')" = 0 ] || fail "dry run would delete before the grace period"

step "the first run marks, a second one inside the grace period waits"
# The second run follows the first at once (its checks come after it), so a grace of a few seconds
# holds it however slow the machine; the step after waits only for what is left of the grace.
grace=10
started=$(date +%s)    # the marks are no older than this
a prune --repo "$REPO" --grace ${grace}s --json > "$T/p1.json"
marked_at=$(date +%s)  # the marks are no younger than this
a prune --repo "$REPO" --grace 1s --json > "$T/p2.json"   # a shorter grace cannot cut the mark's promise
[ $(($(date +%s) - started)) -lt $((grace - 1)) ] || fail "the second run ended after the grace period: it proves nothing"
[ "$(json_field "$T/p1.json" '["marked_packs"]')" = "$(json_field "$T/dry.json" '["marked_packs"]')" ] || fail "run differs from dry run"
still_there "$T/packs0"   # (repacking may add packs; none goes)
ls "$REPO/prune" | grep -q . || fail "no prune mark written"
[ "$(json_field "$T/p2.json" '["waiting_packs"]')" -gt 0 ] || fail "marked packs do not wait for the grace period"
[ "$(json_field "$T/p2.json" '["deleted_packs"]')" = 0 ] || fail "deleted inside the grace period"
still_there "$T/packs0"
a check --repo "$REPO" --read-data -q

step "after the grace period the marked packs go, and space is freed"
left=$((marked_at + grace + 1 - $(date +%s)))
[ "$left" -le 0 ] || sleep "$left"
a prune --repo "$REPO" --grace 1s --json > "$T/p3.json"
[ "$(json_field "$T/p3.json" '["deleted_packs"]')" -gt 0 ] || fail "nothing deleted after the grace period"
after=$(bytes)
[ "$after" -lt "$before" ] || fail "no space freed ($before -> $after)"
echo "data: $before -> $after bytes"
a check --repo "$REPO" --read-data -q

step "every kept recovery point restores byte-identical"
for day in $(seq 7 12); do
  id=$(a snapshots --repo "$REPO" --tag "day$day" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
  a restore --repo "$REPO" "$id" --target "$T/out$day" -q
  same_tree "$T/states/day$day" "$T/out$day/src"
done

step "repacking: packs that are mostly unused are rewritten, the rest kept"
a forget --repo "$REPO" --keep-last 1 -q
a prune --repo "$REPO" --grace 0 --max-unused 10% --json > "$T/p4.json"
[ "$(json_field "$T/p4.json" '["repacked_packs"]')" -gt 0 ] || fail "nothing repacked"
a check --repo "$REPO" --read-data -q
a restore --repo "$REPO" latest --target "$T/final" -q
same_tree "$T/states/day12" "$T/final/src"
a prune --repo "$REPO" --grace 0 --max-unused 10% --json > "$T/p5.json"
[ "$(json_field "$T/p5.json" '["deleted_packs"]')" = 0 ] || fail "a second prune still found garbage"

step "bad options are usage errors"
expect_exit 2 a prune --repo "$REPO" --grace 3x
expect_exit 2 a prune --repo "$REPO" --max-unused 150%
echo PASS
