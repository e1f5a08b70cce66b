#!/usr/bin/env bash
# Two backups of the same data at the same time each store it: prune keeps one copy and
# reclaims the other (issue 17 A10); everything still restores and check --read-data passes.
source "$(dirname "$0")/lib.sh"
init_repo "$REPO" --pack-size 1
SRC=$T/src
mkdir -p "$SRC"
for i in $(seq 1 10); do head -c 2000000 /dev/urandom > "$SRC/f$i"; done
# Two backups of the same data that do not see each other's (as two running at the same time):
# one into the repository, one into a copy of it taken before; the copy's new objects are then
# merged in. No timing involved.
twin_backups() {  # repo tag1 tag2 path...
  local repo=$1 t1=$2 t2=$3; shift 3
  rm -rf "$T/twin"; cp -a "$repo" "$T/twin"
  a backup --repo "$repo" "$@" --tag "$t1" -q
  a backup --repo "$T/twin" "$@" --tag "$t2" -q
  for d in data meta index snapshots; do mkdir -p "$repo/$d"; cp -a -n "$T/twin/$d/." "$repo/$d/"; done
}
data_kib() { du -sk "$REPO/data" | cut -f1; }

step "two simultaneous backups of the same 20 MB"
twin_backups "$REPO" b1 b2 "$SRC"
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
SRC2=$T/src2
mkdir -p "$SRC2"
for i in $(seq 1 10); do head -c 1000000 /dev/urandom > "$SRC2/g$i"; done
twin_backups "$REPO" b3 b4 "$SRC2"
[ "$(data_kib)" -gt 35000 ] || fail "the backups did not both store the new data (test premise): $(data_kib) KiB"
a prune --repo "$REPO" --grace 1s -q
sleep 1.1
a prune --repo "$REPO" --grace 1s -q
a check --repo "$REPO" --read-data -q
[ "$(data_kib)" -lt 34000 ] || fail "prune with a grace period left $(data_kib) KiB"
echo PASS
