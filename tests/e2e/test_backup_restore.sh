#!/usr/bin/env bash
# Back up, change, back up again, restore both snapshots and compare byte for byte and metadata.
source "$(dirname "$0")/lib.sh"

SRC=$T/src
make_tree "$SRC"
init_repo

step "first backup"
a backup --repo "$REPO" "$SRC" --tag first --json > "$T/b1.json"
[ "$(json_field "$T/b1.json" "['stats']['files_new']")" -ge 50 ] || fail "expected new files"
[ "$(json_field "$T/b1.json" "['partial']")" = False ] || fail "first backup partial"
cp -a "$SRC" "$T/src-v1"
S1=$(json_field "$T/b1.json" "['id']")

step "change: modify, add, delete, re-chmod"
echo "changed" >> "$SRC/docs/text.txt"
echo "new file" > "$SRC/new.txt"
rm "$SRC/docs/deep/f3.txt"
chmod 700 "$SRC/bin/tool.sh"
a backup --repo "$REPO" "$SRC" --json > "$T/b2.json"
S2=$(json_field "$T/b2.json" "['id']")
[ "$(json_field "$T/b2.json" "['parent']")" = "$S1" ] || fail "second backup did not use the first as parent"
[ "$(json_field "$T/b2.json" "['stats']['files_new']")" = 1 ] || fail "expected 1 new file"
# text.txt and its hard link changed, tool.sh got a new ctime (chmod); nothing else may be re-read.
[ "$(json_field "$T/b2.json" "['stats']['files_changed']")" = 3 ] || fail "expected 3 changed files"
read_bytes=$(json_field "$T/b2.json" "['stats']['bytes_read']")
[ "$read_bytes" -lt 2000000 ] || fail "incremental backup re-read $read_bytes bytes"

step "no-change backup reads nothing"
a backup --repo "$REPO" "$SRC" --json > "$T/b3.json"
[ "$(json_field "$T/b3.json" "['stats']['bytes_read']")" = 0 ] || fail "no-change backup read data"
[ "$(json_field "$T/b3.json" "['stats']['blobs_added']")" -le 1 ] || fail "no-change backup added blobs"

step "list and inspect"
a snapshots --repo "$REPO" | grep -q first || fail "tag not listed"
[ "$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] || fail "3 snapshots expected"
a ls --repo "$REPO" "$S1" | grep -q '^src/docs/deep/f3.txt$' || fail "ls lacks f3 in first snapshot"
a ls --repo "$REPO" latest src/docs -l | grep -q 'text.txt' || fail "ls -l path filter"
a diff --repo "$REPO" "$S1" "$S2" > "$T/diff.txt"
grep -q '^+  src/new.txt' "$T/diff.txt" || fail "diff lacks added file"
grep -q '^-  src/docs/deep/f3.txt' "$T/diff.txt" || fail "diff lacks removed file"
grep -q '^M  src/docs/text.txt' "$T/diff.txt" || fail "diff lacks modified file"
grep -q '^U  src/bin/tool.sh' "$T/diff.txt" || fail "diff lacks metadata change"
cmp <(a cat --repo "$REPO" file latest src/docs/text.txt) "$SRC/docs/text.txt" || fail "cat file differs"

step "restore both snapshots and compare"
a restore --repo "$REPO" "$S1" --target "$T/r1" --verify -q
same_tree "$T/src-v1" "$T/r1/src"
a restore --repo "$REPO" latest --target "$T/r2" --verify --json > "$T/r2.json"
same_tree "$SRC" "$T/r2/src"
[ "$(stat -c %i "$T/r2/src/docs/text.txt")" = "$(stat -c %i "$T/r2/src/docs/hardlink.txt")" ] || fail "hard link not restored"
[ "$(readlink "$T/r2/src/dangling")" = /nonexistent/target ] || fail "dangling symlink"

step "restore chosen paths"
a restore --repo "$REPO" latest --target "$T/r3" --include src/docs/deep -q
[ -f "$T/r3/src/docs/deep/f1.txt" ] || fail "included file missing"
[ ! -e "$T/r3/src/bin" ] || fail "excluded directory restored"
a restore --repo "$REPO" latest --target "$T/r4" --include '*.sh' -q
[ -f "$T/r4/src/bin/tool.sh" ] && [ ! -e "$T/r4/src/docs" ] || fail "--include '*.sh'"

step "dry run writes nothing"
a restore --repo "$REPO" latest --target "$T/r5" --dry-run > "$T/dry.txt"
grep -q "would restore" "$T/dry.txt" || fail "dry run output"
[ ! -e "$T/r5" ] || fail "dry run created the target"

step "delta restore into an older copy writes only what differs"
rm -rf "$T/r6"; cp -a "$T/r1" "$T/r6"
echo "local damage" > "$T/r6/src/docs/deep/f10.txt"
mkdir -p "$T/r6/src/stray/dir"; echo x > "$T/r6/src/stray/dir/file"
echo keep > "$T/r6/not-in-snapshot.txt"   # beside the restored tree: --delete must leave it
a restore --repo "$REPO" latest --target "$T/r6" --delete --json > "$T/r6.json"
same_tree "$SRC" "$T/r6/src"
[ -f "$T/r6/not-in-snapshot.txt" ] || fail "--delete removed an entry of the target directory itself"
[ ! -e "$T/r6/src/stray" ] || fail "--delete left an extra directory"
written=$(json_field "$T/r6.json" "['bytes_written']")
total=$(json_field "$T/r6.json" "['bytes']")
[ "$written" -lt $((total / 4)) ] || fail "delta restore wrote $written of $total bytes"

step "several paths, excludes"
mkdir -p "$T/other/cache"; echo a > "$T/other/keep.txt"; echo b > "$T/other/cache/drop"; echo c > "$T/other/x.tmp"
echo '*.tmp' > "$T/excl"
a backup --repo "$REPO" --tag multi --exclude cache --exclude-file "$T/excl" "$SRC" "$T/other" --json > "$T/multi.json"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['tags']==['multi'] and len(d['paths'])==2, d" "$T/multi.json" \
  || fail "a repeatable option swallowed the paths that follow it"
a ls --repo "$REPO" latest > "$T/ls.txt"
grep -q '^other/keep.txt$' "$T/ls.txt" && grep -q '^src/new.txt$' "$T/ls.txt" || fail "multi-path snapshot"
! grep -q 'cache\|x.tmp' "$T/ls.txt" || fail "excluded entries were backed up"

step "check and stats"
a check --repo "$REPO" --read-data -q
a stats --repo "$REPO" --json > "$T/stats.json"
python3 - "$T/stats.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["dedup_ratio"] > 2.5, s          # four snapshots of nearly the same data
assert s["compression_ratio"] > 1.0, s
assert s["index_bytes_per_blob"] < 100, s
PY
echo PASS
