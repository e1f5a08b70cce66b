#!/usr/bin/env bash
# Damage packs three ways (flipped byte, truncation, deletion): `check --read-data` must find
# every damaged object, name the affected files, and restore must name them too while
# restoring everything else correctly. Then a damaged index object: restores read its packs'
# headers and `repair index` rebuilds the index.
source "$(dirname "$0")/lib.sh"

SRC=$T/src
mkdir -p "$SRC"
# Each file is one chunk (smaller than the minimum chunk size), so damage maps to whole files.
for i in $(seq 1 40); do head -c 200000 /dev/urandom > "$SRC/f$i.bin"; done
a init --repo "$REPO" --kdf-memory 8192 --kdf-time 1 --pack-size 1 -q
a backup --repo "$REPO" "$SRC" -q
a check --repo "$REPO" --read-data -q

# Map each data pack to the files stored in it, using arca's own inspection commands.
python3 - "$ARCA" "$REPO" > "$T/map.txt" <<'PY'
import json, subprocess, sys
arca, repo = sys.argv[1], sys.argv[2]
def cat(*a): return json.loads(subprocess.check_output([arca, "cat", "--repo", repo, *a]))
snap = cat("snapshot", "latest")
files = {}
def walk(tree, prefix):
    for n in cat("tree", tree)["nodes"]:
        p = prefix + n["name"]
        if n["type"] == "dir": walk(n["subtree"], p + "/")
        for b in n.get("content", []): files.setdefault(b, []).append(p)
walk(snap["tree"], "")
import os
for name in os.listdir(os.path.join(repo, "index")):
    for p in cat("index", name)["packs"]:
        if p["type"] != "data": continue
        for b in p["blobs"]:
            for f in files.get(b["id"], []):
                print(p["pack"], b["offset"], b["length"], f)
PY
packs=($(awk '{print $1}' "$T/map.txt" | sort -u))
[ ${#packs[@]} -ge 4 ] || fail "expected several data packs, got ${#packs[@]}"
path_of() { echo "$REPO/data/${1:0:2}/$1"; }
P1=${packs[0]}; P2=${packs[1]}; P3=${packs[2]}
# P1: flip one byte inside its first blob only.
read -r _ off len file1 < <(grep "^$P1" "$T/map.txt" | head -1)
flip_byte "$(path_of "$P1")" $((off + len / 2))
# P2: truncate to half (only blobs past the cut are lost). P3: delete.
cut=$(( $(stat -c %s "$(path_of "$P2")") / 2 ))
truncate -s $cut "$(path_of "$P2")"
rm "$(path_of "$P3")"
expected=$( (echo "$file1"; grep "^$P3" "$T/map.txt" | awk '{print $4}';
             grep "^$P2" "$T/map.txt" | awk -v cut=$cut '$2 + $3 > cut {print $4}') | sort -u)

step "check without --read-data finds the missing and truncated packs"
expect_exit 12 a check --repo "$REPO"
err_contains "$P3"
err_contains "$P2"

step "check --read-data finds every damaged object and names the files"
expect_exit 12 a check --repo "$REPO" --read-data
err_contains "$P1"
err_contains "$P2"
err_contains "$P3"
found=$(grep '^damaged:' "$T/err" | sed 's/.* file //' | sort -u)
[ "$found" = "$expected" ] || { echo "expected: $expected"; echo "found: $found"; fail "damaged file list differs"; }

step "restore names the affected files and restores the rest"
expect_exit 3 a restore --repo "$REPO" latest --target "$T/out"
for f in $expected; do err_contains "$f"; done
for f in $(ls "$SRC"); do
  if ! echo "$expected" | grep -qx "src/$f"; then cmp "$SRC/$f" "$T/out/src/$f" || fail "undamaged $f differs"; fi
done

# A damaged index object: the packs it listed are read from their own headers, so every point
# still restores; check says what to run (never "harmless"); `repair index` makes it whole.
R2=$T/repo2
init_repo "$R2"
mkdir -p "$T/s2"
for i in 1 2 3; do head -c 150000 /dev/urandom > "$T/s2/g$i.bin"; done
a backup --repo "$R2" "$T/s2" -q
echo more > "$T/s2/new.txt"
a backup --repo "$R2" "$T/s2" -q           # reuses the first point's packs
idx=$(ls "$R2/index" | head -1)
flip_byte "$R2/index/$idx" 40

step "restore works through the pack headers and names the damaged index object"
expect_exit 0 a restore --repo "$R2" latest --target "$T/out2"
err_contains "index/$idx"
err_contains "arca repair index"
for f in g1.bin g2.bin g3.bin new.txt; do cmp "$T/s2/$f" "$T/out2/s2/$f" || fail "$f differs"; done

step "check reports the damage and the way out, calls nothing harmless"
expect_exit 12 a check --repo "$R2"
err_contains "index/$idx"
err_contains "arca repair index"
grep -q harmless "$T/.stdout" && fail "check calls packs of a damaged index harmless"
[ "$(grep -o "index/$idx" "$T/err" | wc -l)" = 1 ] || fail "check names the damaged index object more than once"

expect_exit 12 a prune --repo "$R2"
err_contains "index/$idx"
err_contains "run 'arca repair index'"

step "repair index rebuilds it from the pack headers; check and prune pass afterwards"
a repair index --repo "$R2" --json > "$T/rep.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["complete"] and r["damaged_index"] and r["index_files_written"] >= 1, r' "$T/rep.json"
[ -e "$R2/index/$idx" ] && fail "the damaged index object is still there"
a check --repo "$R2" --read-data -q
expect_exit 0 a restore --repo "$R2" latest --target "$T/out3"
[ -s "$T/err" ] && { cat "$T/err"; fail "restore still warns after repair index"; }
a prune --repo "$R2" -q

# A deleted index object (or one never written for a pack a later point uses): the blobs are
# simply in no index, so a lookup miss reads the headers of the packs no index lists (once).
R3=$T/repo3
init_repo "$R3"
mkdir -p "$T/s3"
for i in 1 2 3; do head -c 150000 /dev/urandom > "$T/s3/h$i.bin"; done
a backup --repo "$R3" "$T/s3" -q
first3=$(ls "$R3/snapshots")
idx3=$(ls "$R3/index")
cp -a "$T/s3" "$T/s3.first"
echo more > "$T/s3/new.txt"
a backup --repo "$R3" "$T/s3" -q           # reuses the first point's packs
second3=$(ls "$R3/snapshots" | grep -v "$first3")
[ "$(echo "$idx3" | wc -l)" = 1 ] || fail "expected one index object after the first backup"
rm "$R3/index/$idx3"

step "every point restores identically from the pack headers, with one warning naming what to run"
expect_exit 0 a restore --repo "$R3" "${first3:0:8}" --target "$T/out4"
err_contains "in no index object"
err_contains "arca repair index"
[ "$(grep -c "repair index" "$T/err")" = 1 ] || { cat "$T/err"; fail "warned more than once"; }
diff -r "$T/s3.first" "$T/out4/s3" || fail "first point differs"
expect_exit 0 a restore --repo "$R3" "${second3:0:8}" --target "$T/out5"
err_contains "arca repair index"
diff -r "$T/s3" "$T/out5/s3" || fail "second point differs"
expect_exit 0 a cat --repo "$R3" file "${first3:0:8}" s3/h1.bin
cmp "$T/s3/h1.bin" "$T/.stdout" || fail "cat file differs"

step "check says to run repair index; after it, restores no longer warn"
expect_exit 12 a check --repo "$R3"
err_contains "arca repair index"
a repair index --repo "$R3" -q
a check --repo "$R3" --read-data -q
expect_exit 0 a restore --repo "$R3" "${first3:0:8}" --target "$T/out6"
[ -s "$T/err" ] && { cat "$T/err"; fail "restore still warns after repair index"; }
diff -r "$T/s3.first" "$T/out6/s3" || fail "first point differs after repair"
echo PASS
