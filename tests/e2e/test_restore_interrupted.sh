#!/usr/bin/env bash
# A restore stopped by SIGTERM, or meeting damaged data, never leaves a wrong file (zero-filled,
# full size) under a real name, removes its unfinished files and says what happened.
source "$(dirname "$0")/lib.sh"

SRC=$T/src
mkdir -p "$SRC"
echo small > "$SRC/a-small.txt"
head -c 100000000 /dev/urandom > "$SRC/big.bin"   # restores in ~0.5 s: the signal lands while it is written
head -c 3000000 /dev/urandom > "$SRC/z-medium.bin"
a init --repo "$REPO" --kdf-memory 8192 --kdf-time 1 --pack-size 1 -q
a backup --repo "$REPO" "$SRC" -q

step "SIGTERM during a restore: exit 130, a report, no wrong file under a real name"
set +e
"$ARCA" restore --repo "$REPO" latest --target "$T/out" --threads 1 --no-progress > "$T/int.out" 2> "$T/err" &
pid=$!
# Wait until the big file is being written (under its temporary name), then stop the restore.
for _ in $(seq 1 2000); do
  compgen -G "$T/out/src/.arca-restore.*" > /dev/null && break
  sleep 0.005
done
kill -TERM $pid
wait $pid
rc=$?
set -e
[ $rc = 130 ] || { cat "$T/err"; fail "interrupted restore exited $rc, expected 130"; }
err_contains "interrupted: "
err_contains "unfinished file"
! compgen -G "$T/out/src/.arca-restore.*" > /dev/null || fail "temporary files left behind"
for f in a-small.txt big.bin z-medium.bin; do
  [ ! -e "$T/out/src/$f" ] || cmp -s "$SRC/$f" "$T/out/src/$f" || fail "$f is under its real name with wrong content"
done
[ ! -e "$T/out/src/big.bin" ] || fail "the restore finished before the signal (test inconclusive)"

step "the same restore again completes it"
a restore --repo "$REPO" latest --target "$T/out" -q
for f in a-small.txt big.bin z-medium.bin; do cmp "$SRC/$f" "$T/out/src/$f"; done

step "a damaged pack: that file reported damaged, not restored, no full-size zero file"
# The pack holding the start of z-medium.bin (one of its chunks; not shared with other files).
blob=$(python3 - "$ARCA" "$REPO" <<'PY'
import json, subprocess, sys
arca, repo = sys.argv[1], sys.argv[2]
def cat(*a): return json.loads(subprocess.check_output([arca, "cat", "--repo", repo, *a]))
snap = cat("snapshot", "latest")
top = cat("tree", snap["tree"])["nodes"][0]
for n in cat("tree", top["subtree"])["nodes"]:
    if n["name"] == "z-medium.bin": print(n["content"][0])
PY
)
[ -n "$blob" ] || fail "no blob found for z-medium.bin"
read -r pack off len < <(python3 - "$ARCA" "$REPO" "$blob" <<'PY'
import json, os, subprocess, sys
arca, repo, blob = sys.argv[1:4]
for name in os.listdir(os.path.join(repo, "index")):
    idx = json.loads(subprocess.check_output([arca, "cat", "--repo", repo, "index", name]))
    for p in idx["packs"]:
        for b in p["blobs"]:
            if b["id"] == blob: print(p["pack"], b["offset"], b["length"])
PY
)
flip_byte "$REPO/data/${pack:0:2}/$pack" $((off + len / 2))
expect_exit 3 a restore --repo "$REPO" latest --target "$T/out2"
err_contains "damaged in the repository and was not restored: src/z-medium.bin"
! grep -q "restored 3 files" "$T/.stdout" || fail "the damaged file is counted as restored"
[ ! -e "$T/out2/src/z-medium.bin" ] || fail "damaged file left under its real name"
! compgen -G "$T/out2/src/.arca-restore.*" > /dev/null || fail "temporary file of the damaged file left behind"
rm -rf "$T/out2"
expect_exit 3 a restore --repo "$REPO" latest --target "$T/out2" --json
[ ! -e "$T/out2/src/z-medium.bin" ] || fail "damaged file left under its real name"
! compgen -G "$T/out2/src/.arca-restore.*" > /dev/null || fail "temporary file of the damaged file left behind"
python3 - "$T/.stdout" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["damaged"] == ["src/z-medium.bin"], r["damaged"]
assert r["files"] == 2, r["files"]          # the damaged file is not counted as restored
assert all(e["source"] == "repository" for e in r["errors"]), r["errors"]
PY
cmp "$SRC/big.bin" "$T/out2/src/big.bin"

step "damaged data over an existing file: the existing file is left exactly as it was"
# Damage the last chunk of z-medium.bin too; the existing file matches the snapshot in its
# (damaged) first chunk, differs in the middle (written first) and at the end (damaged).
read -r pack off len < <(python3 - "$ARCA" "$REPO" <<'PY'
import json, os, subprocess, sys
arca, repo = sys.argv[1], sys.argv[2]
def cat(*a): return json.loads(subprocess.check_output([arca, "cat", "--repo", repo, *a]))
snap = cat("snapshot", "latest")
top = cat("tree", snap["tree"])["nodes"][0]
blob = [n for n in cat("tree", top["subtree"])["nodes"] if n["name"] == "z-medium.bin"][0]["content"][-1]
for name in os.listdir(os.path.join(repo, "index")):
    for p in cat("index", name)["packs"]:
        for b in p["blobs"]:
            if b["id"] == blob: print(p["pack"], b["offset"], b["length"])
PY
)
flip_byte "$REPO/data/${pack:0:2}/$pack" $((off + len / 2))
mkdir -p "$T/out4/src"
cp "$SRC/z-medium.bin" "$T/out4/src/z-medium.bin"
flip_byte "$T/out4/src/z-medium.bin" 1500000
flip_byte "$T/out4/src/z-medium.bin" 2999990
cp "$T/out4/src/z-medium.bin" "$T/before.bin"
expect_exit 3 a restore --repo "$REPO" latest --target "$T/out4" --threads 1 --json
cmp "$T/before.bin" "$T/out4/src/z-medium.bin" || fail "the existing file was changed by a restore that met damage"
! compgen -G "$T/out4/src/.arca-restore.*" > /dev/null || fail "temporary copy of the existing file left behind"
python3 - "$T/.stdout" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["damaged"] == ["src/z-medium.bin"], r["damaged"]
assert r["bytes_written"] <= r["bytes"], r   # what was written for the damaged file is gone
PY
expect_exit 3 a restore --repo "$REPO" latest --target "$T/out4"
err_contains "left as it was"
cmp "$T/before.bin" "$T/out4/src/z-medium.bin" || fail "the existing file was changed by a restore that met damage"

step "SIGTERM during a delta restore: the existing file is intact"
rm -rf "$T/out5"; mkdir -p "$T/out5/src"
head -c 100000000 /dev/zero | tr '\0' 'x' > "$T/out5/src/big.bin"
cp "$T/out5/src/big.bin" "$T/before.bin"
set +e
"$ARCA" restore --repo "$REPO" latest --target "$T/out5" --threads 1 --no-progress --include big.bin > /dev/null 2> "$T/err" &
pid=$!
for _ in $(seq 1 2000); do
  compgen -G "$T/out5/src/.arca-restore.*" > /dev/null && break
  sleep 0.005
done
kill -TERM $pid; wait $pid; rc=$?
set -e
[ $rc = 130 ] || { cat "$T/err"; fail "interrupted delta restore exited $rc, expected 130"; }
cmp "$T/before.bin" "$T/out5/src/big.bin" || fail "an interrupted delta restore changed the existing file"
! compgen -G "$T/out5/src/.arca-restore.*" > /dev/null || fail "temporary copy left behind"
! grep -q "partly updated" "$T/err" || fail "reported a partly updated file"
rm -f "$T/before.bin"

step "only damaged files selected: nothing restored, exit 12"
expect_exit 12 a restore --repo "$REPO" latest --target "$T/out3" --include z-medium.bin
err_contains "check --read-data"
echo PASS
