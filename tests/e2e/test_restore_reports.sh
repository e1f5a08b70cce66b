#!/usr/bin/env bash
# What a restore reports and writes: sparse files stay sparse, an --include that matches nothing
# is an error naming the point, target problems are not blamed on the repository, and a dry run
# of a delta restore counts what would really be written.
source "$(dirname "$0")/lib.sh"

SRC=$T/src
mkdir -p "$SRC/docs" "$T/other"
for i in $(seq 1 20); do echo "document $i" > "$SRC/docs/d$i.txt"; done
head -c 2000000 /dev/urandom > "$SRC/docs/blob.bin"
# 50 MB, of which 3 small pieces hold data.
truncate -s 50M "$SRC/sparse.img"
for at in 0 20000000 52000000; do echo "data at $at" | dd of="$SRC/sparse.img" bs=1 seek=$at conv=notrunc status=none; done
echo other > "$T/other/o.txt"
mkfifo "$SRC/pipe"
init_repo
a backup --repo "$REPO" "$SRC" -q
first=$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

step "a sparse file is restored with holes"
a restore --repo "$REPO" latest --target "$T/r1" -q
cmp "$SRC/sparse.img" "$T/r1/src/sparse.img"
kb=$(du -k "$T/r1/src/sparse.img" | cut -f1)
[ "$kb" -lt 2048 ] || fail "sparse 50 MB file uses $kb KiB on disk after restore"

step "--no-sparse writes the zeros (a swap file must have no holes)"
a restore --repo "$REPO" latest --target "$T/r1ns" --include src/sparse.img --no-sparse -q
cmp "$SRC/sparse.img" "$T/r1ns/src/sparse.img"
kb=$(du -k "$T/r1ns/src/sparse.img" | cut -f1)
[ "$kb" -gt 50000 ] || fail "--no-sparse restore uses only $kb KiB on disk"
rm -rf "$T/r1ns"

step "a dry run into an empty target does not count the holes as written"
a restore --repo "$REPO" latest --target "$T/r0" --dry-run --json > "$T/dry0.json"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['bytes_written'] < 10_000_000, r['bytes_written']" "$T/dry0.json"

step "a delta restore over a filled copy punches the holes too"
cp --sparse=never "$SRC/sparse.img" "$T/r1/src/sparse.img"
echo changed | dd of="$T/r1/src/sparse.img" bs=1 seek=30000000 conv=notrunc status=none
a restore --repo "$REPO" latest --target "$T/r1" -q
cmp "$SRC/sparse.img" "$T/r1/src/sparse.img"

step "dry run of a delta restore: what would be written, replaced, unchanged, deleted"
echo "local change" >> "$T/r1/src/docs/d3.txt"
rm "$T/r1/src/docs/d4.txt"
echo stray > "$T/r1/src/docs/stray.txt"
a restore --repo "$REPO" latest --target "$T/r1" --delete --dry-run > "$T/dry.txt"
grep -q "would write .*: 1 new, 1 replaced, 20 unchanged; would delete 1 extra entry" "$T/dry.txt" \
  || { cat "$T/dry.txt"; fail "dry run summary"; }
a restore --repo "$REPO" latest --target "$T/r1" --delete --dry-run --json > "$T/dry.json"
python3 - "$T/dry.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["files_new"] == 1 and r["files_replaced"] == 1 and r["files_unchanged"] == 20, r
assert r["bytes_written"] < 100, r["bytes_written"]   # two small files, not the 52 MB of the point
assert r["deleted"] == ["src/docs/stray.txt"], r["deleted"]
PY
grep -q "local change" "$T/r1/src/docs/d3.txt" || fail "dry run wrote"

step "an --include that matches nothing is an error naming the point"
sleep 1.1; a backup --repo "$REPO" "$T/other" -q   # another job: 'latest' is now its point
expect_exit 10 a restore --repo "$REPO" latest --target "$T/r2" --include src/docs/d1.txt
err_contains "--include 'src/docs/d1.txt' matched nothing"
err_contains "$T/other"
err_contains "host $(hostname)"
a restore --repo "$REPO" "$first" --target "$T/r2" --include src/docs/d1.txt -q
cmp "$SRC/docs/d1.txt" "$T/r2/src/docs/d1.txt"

step "absolute paths in filters (restic's habit) map to tree paths; unmatched excludes warn"
a restore --repo "$REPO" "$first" --target "$T/r7" --include "$SRC/docs/d1.txt" -q
cmp "$SRC/docs/d1.txt" "$T/r7/src/docs/d1.txt"
[ ! -e "$T/r7/src/docs/d2.txt" ] || fail "--include of an absolute path restored more"
a restore --repo "$REPO" "$first" --target "$T/r8" --exclude "$SRC/docs" --exclude nosuchname 2> "$T/err" > /dev/null
[ ! -e "$T/r8/src/docs" ] || fail "--exclude of an absolute path excluded nothing"
[ -e "$T/r8/src/sparse.img" ] || fail "--exclude excluded too much"
err_contains "warning: --exclude 'nosuchname' matched nothing"
! grep -q "$SRC/docs' matched nothing" "$T/err" || fail "a matching absolute exclude reported as unmatched"
set +e; a restore --repo "$REPO" "$first" --target "$T/r9" --include /nowhere/x > /dev/null 2> "$T/err"; rc=$?; set -e
[ $rc != 0 ] || fail "an absolute --include outside the point's paths was accepted"
err_contains "not below any path of snapshot"
err_contains "src/"
expect_exit 10 a restore --repo "$REPO" "$first" --target "$T/r9" --include src/nosuch
! grep -q "'latest' is the newest" "$T/err" || fail "the hint blames 'latest' though an id was given"

step "ls takes an absolute path too; ls -l shows device numbers"
a ls --repo "$REPO" "$first" "$SRC/docs/d1.txt" > "$T/ls.txt"
grep -qx "src/docs/d1.txt" "$T/ls.txt" || { cat "$T/ls.txt"; fail "ls of an absolute path"; }
mkdir -p "$T/devs"
if mknod "$T/devs/null2" c 1 3 2>/dev/null; then
  a backup --repo "$REPO" "$T/devs" -q
  a ls --repo "$REPO" latest -l > "$T/ls.txt"
  grep -q "^c.* 1, *3 .*devs/null2" "$T/ls.txt" || { cat "$T/ls.txt"; fail "ls -l: no device numbers"; }
  a restore --repo "$REPO" latest --target "$T/rdev" > "$T/rdev.txt"
  grep -q "1 special file" "$T/rdev.txt" || { cat "$T/rdev.txt"; fail "restore summary: device not counted"; }
  [ -c "$T/rdev/devs/null2" ] || fail "device node not restored"
else
  echo "(mknod not permitted: device case skipped)"
fi

step "temporary files left by a killed restore are removed by the next one, which says so"
a restore --repo "$REPO" "$first" --target "$T/r10" -q
head -c 100000 /dev/urandom > "$T/r10/src/docs/.arca-restore.4000000.0"   # no such pid (above pid_max)
a restore --repo "$REPO" "$first" --target "$T/r10" > /dev/null 2> "$T/err"
[ ! -e "$T/r10/src/docs/.arca-restore.4000000.0" ] || fail "leftover temporary file not removed"
err_contains "removed 1 temporary file left by an earlier, killed restore (first: src/docs/.arca-restore.4000000.0)"

step "a name clash in the target is the target's problem, not the repository's"
mkdir -p "$T/r3/src/docs/d5.txt"   # a directory where the snapshot has a file
expect_exit 1 a restore --repo "$REPO" "$first" --target "$T/r3"
err_contains "a directory of that name exists"
err_contains "the repository is not at fault"
! grep -q "check --read-data" "$T/err" || fail "a target problem blamed on the repository"

step "a file where the snapshot has a directory or a FIFO: counted as replaced, shown by a dry run"
a restore --repo "$REPO" "$first" --target "$T/r5" -q
rm -rf "$T/r5/src/docs"; echo "a file" > "$T/r5/src/docs"
rm -f "$T/r5/src/pipe"; echo "a file" > "$T/r5/src/pipe"
a restore --repo "$REPO" "$first" --target "$T/r5" --dry-run > "$T/dry5.txt"
grep -q "would replace src/docs (file, by a dir)" "$T/dry5.txt" || { cat "$T/dry5.txt"; fail "dry run: replaced file not shown"; }
grep -q "would replace src/pipe (file, by a fifo)" "$T/dry5.txt" || { cat "$T/dry5.txt"; fail "dry run: replaced fifo not shown"; }
grep -q "2 replaced" "$T/dry5.txt" || { cat "$T/dry5.txt"; fail "dry run: replaced count"; }
grep -q "1 special file" "$T/dry5.txt" || { cat "$T/dry5.txt"; fail "dry run: FIFO not counted"; }
a restore --repo "$REPO" "$first" --target "$T/r5" > "$T/real5.txt"
grep -q "2 replaced" "$T/real5.txt" || { cat "$T/real5.txt"; fail "real run: replaced count"; }
grep -q "1 special file" "$T/real5.txt" || { cat "$T/real5.txt"; fail "real run: FIFO not counted"; }
[ -p "$T/r5/src/pipe" ] && [ -d "$T/r5/src/docs" ] || fail "not replaced"
a restore --repo "$REPO" "$first" --target "$T/r5" --json > "$T/j5.json"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['replaced_other']==[] and r['specials']==1, r" "$T/j5.json"

step "--delete --dry-run refuses a mount point exactly as the real run does"
a restore --repo "$REPO" "$first" --target "$T/r6" -q
mkdir -p "$T/r6/src/mp" "$T/mpsrc"; echo keep > "$T/mpsrc/k"
if mount --bind "$T/mpsrc" "$T/r6/src/mp" 2>/dev/null; then
  set +e; a restore --repo "$REPO" "$first" --target "$T/r6" --delete --dry-run > "$T/dry6.txt" 2> "$T/err"; rc1=$?
  a restore --repo "$REPO" "$first" --target "$T/r6" --delete > /dev/null 2> "$T/err2"; rc2=$?; set -e
  umount "$T/r6/src/mp"
  ! grep -q "would delete src/mp" "$T/dry6.txt" || { cat "$T/dry6.txt"; fail "dry run would delete a mount point"; }
  err_contains "src/mp is a mount point"
  grep -q "src/mp is a mount point" "$T/err2" || fail "real run did not refuse the mount point"
  [ $rc1 = $rc2 ] || fail "dry run exit $rc1, real run exit $rc2"
  [ -f "$T/mpsrc/k" ] || fail "deleted through a mount point"
else
  echo "(no bind mount here: mount point case skipped)"
fi

step "a read-only target fails once, clearly"
mkdir -p "$T/ro"
if mount --bind "$T/ro" "$T/ro" 2>/dev/null; then
  mount -o remount,bind,ro "$T/ro"
  set +e; a restore --repo "$REPO" "$first" --target "$T/ro" > /dev/null 2> "$T/err"; rc=$?; set -e
  umount "$T/ro"
  [ $rc = 1 ] || { cat "$T/err"; fail "read-only target: exit $rc, expected 1"; }
  err_contains "read-only"
  ! grep -q "check --read-data" "$T/err" || fail "a read-only target blamed on the repository"
else
  echo "(no bind mount here: read-only case skipped)"
fi
echo PASS
