#!/usr/bin/env bash
# Two backups of the same data at the same time each store it: prune keeps one copy and
# reclaims the other (issue 17 A10); everything still restores and check --read-data passes.
source "$(dirname "$0")/lib.sh"
init_repo "$REPO" --pack-size 1
SRC=$T/src
mkdir -p "$SRC"
for i in $(seq 1 10); do head -c 2000000 /dev/urandom > "$SRC/f$i"; done
data_kib() { du -sk "$REPO/data" | cut -f1; }

step "two simultaneous backups of the same 20 MB"
for n in 1 2; do ( ARCA_TEST_WRITER_PACK_MS=50 "$ARCA" backup --repo "$REPO" "$SRC" --tag "b$n" -q ) & done
wait
before=$(data_kib)
echo "data packs: $before KiB"
[ "$before" -gt 35000 ] || fail "the backups did not both store the data (test premise): $before KiB"

step "prune reclaims the duplicate copy"
a prune --repo "$REPO" --grace 0 --max-unused 1% --json > "$T/p.json"
after=$(data_kib)
echo "after prune: $after KiB"
[ "$after" -lt 24000 ] || fail "prune left $after KiB for 20 MB of data"
a check --repo "$REPO" --read-data -q
for id in $(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; [print(s["id"]) for s in json.load(sys.stdin)]'); do
  rm -rf "$T/out"
  a restore --repo "$REPO" "$id" --target "$T/out" -q
  same_tree "$SRC" "$T/out/src"
done
a prune --repo "$REPO" --grace 0 --max-unused 1% --json > "$T/p2.json"
[ "$(json_field "$T/p2.json" '["deleted_packs"]')" = 0 ] || fail "a second prune still found duplicates"

step "with a grace period: the duplicates are marked, then deleted by a later run"
for n in 3 4; do ( ARCA_TEST_WRITER_PACK_MS=50 "$ARCA" backup --repo "$REPO" "$T/src" --tag "b$n" -q ) & done
wait
a prune --repo "$REPO" --grace 1s -q
sleep 1.1
a prune --repo "$REPO" --grace 1s -q
a check --repo "$REPO" --read-data -q
[ "$(data_kib)" -lt 24000 ] || fail "prune with a grace period left $(data_kib) KiB"
echo PASS
