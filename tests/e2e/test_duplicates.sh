#!/usr/bin/env bash
# A blob stored twice (two backups at once) and one copy damaged: restore reads the other copy,
# prune keeps the intact copy and drops the damaged one, and check does not call the pack holding
# the only intact copy harmless when its index object is gone (issue 17 t1 findings 1 and 6).
source "$(dirname "$0")/lib.sh"
init_repo "$REPO" --pack-size 4
mkdir -p "$T/dup1" "$T/dup2"
head -c 20000000 /dev/urandom > "$T/dup1/f"
cp "$T/dup1/f" "$T/dup2/f"
# Two backups of the same data that do not see each other's (as two running at the same time):
# one into the repository, one into a copy of it taken before; the copy's new objects are then
# merged in. No timing involved.
twin_backups() {  # repo path1 path2
  local repo=$1
  rm -rf "$T/twin"; cp -a "$repo" "$T/twin"
  a backup --repo "$repo" "$2" -q
  a backup --repo "$T/twin" "$3" -q
  for d in data meta index snapshots; do mkdir -p "$repo/$d"; cp -a -n "$T/twin/$d/." "$repo/$d/"; done
}
ids() { a snapshots --repo "$1" --json | python3 -c 'import json,sys; [print(s["id"]) for s in json.load(sys.stdin)]'; }
# pack -> index object listing it, for every data pack
pack_index() {
  for f in "$1"/index/*; do
    a cat --repo "$1" index "$(basename "$f")" | python3 -c '
import json,sys
for p in json.load(sys.stdin)["packs"]:
    if p["type"] == "data": print(p["pack"], sys.argv[1], " ".join(b["id"] for b in p["blobs"]))' "$(basename "$f")"
  done
}

step "two simultaneous backups store every blob twice"
twin_backups "$REPO" "$T/dup1" "$T/dup2"
pack_index "$REPO" | sort > "$T/packs"
[ "$(wc -l < "$T/packs")" -ge 2 ] || fail "test premise: not two copies"
read -r bad bad_index bad_blobs < "$T/packs"
first_blob=${bad_blobs%% *}
# The other copy of the damaged pack's first blob, and the index object that lists it.
read -r good good_index < <(grep -v "^$bad" "$T/packs" | grep "$first_blob" | cut -d' ' -f1,2)
[ -n "$good" ] || fail "test premise: the blob has no second copy"
flip_byte "$REPO/data/${bad:0:2}/$bad" 100000
flip_byte "$REPO/data/${bad:0:2}/$bad" 100001

step "restore falls back to the intact copy"
for id in $(ids "$REPO"); do
  rm -rf "$T/out"
  a restore --repo "$REPO" "$id" --target "$T/out" 2> "$T/err"
  cmp "$T/dup1/f" "$T/out"/dup*/f || fail "restore of $id is not byte for byte"
done
grep -q "instead" "$T/err" || { cat "$T/err"; fail "restore did not say it read another copy"; }

step "restore falls back when the first copy's pack is missing"
cp -a "$REPO" "$T/repo_gone"
rm "$T/repo_gone/data/${bad:0:2}/$bad"
for id in $(ids "$T/repo_gone"); do
  rm -rf "$T/out"
  a restore --repo "$T/repo_gone" "$id" --target "$T/out" -q 2> "$T/err"
  cmp "$T/dup1/f" "$T/out"/dup*/f || fail "restore of $id without the first copy's pack is not byte for byte"
done
rm -rf "$T/repo_gone"

step "check --read-data: the pack with the only intact copy is not harmless when its index is gone"
cp -a "$REPO" "$T/repo6"
rm "$T/repo6/index/$good_index"
set +e
a check --repo "$T/repo6" --read-data > "$T/c6" 2>&1
rc=$?
set -e
cat "$T/c6"
[ "$rc" != 0 ] || fail "check passed with a damaged pack"
if grep "$good" "$T/c6" | grep -q harmless; then fail "the only intact copy was called harmless"; fi
grep "$good" "$T/c6" | grep -q "only intact copy" || fail "check did not say the pack holds the only intact copy"

step "prune keeps the intact copy, never the damaged one"
a prune --repo "$REPO" --grace 0 > "$T/p.out" 2>&1 || { cat "$T/p.out"; fail "prune failed"; }
cat "$T/p.out"
# The damaged pack may stay when every blob prune keeps from it is intact (its damaged copy is
# then unused, outside every index, and goes when the pack is repacked): what must never happen
# is an index listing the damaged copy.
damaged=$(grep "^error: data/${bad:0:2}/$bad: blob" "$T/c6" | sed 's/.*: blob \([0-9a-f]*\) .*/\1/' | head -1)
[ -n "$damaged" ] || fail "test premise: check named no damaged blob in the damaged pack"
if pack_index "$REPO" | grep "^$bad " | grep -q " $damaged"; then fail "prune kept the damaged copy of $damaged indexed"; fi
a check --repo "$REPO" --read-data -q
for id in $(ids "$REPO"); do
  rm -rf "$T/out"
  a restore --repo "$REPO" "$id" --target "$T/out" -q
  cmp "$T/dup1/f" "$T/out"/dup*/f || fail "after prune, restore of $id is not byte for byte"
done
echo PASS
