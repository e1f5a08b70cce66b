#!/usr/bin/env bash
# Listings show what the repository holds without lying or breaking: file names with control
# characters are escaped, names that are not UTF-8 survive --json exactly, ls -l states its time
# zone, diff is in path order, stats ratios make sense on tiny points, tables align with UTF-8,
# counts have the right plural.
source "$(dirname "$0")/lib.sh"
init_repo
D=$T/data
mkdir -p "$D/a" "$D/données"
echo 1 > "$D/a.txt"; echo 2 > "$D/a/b"; echo 3 > "$D/données/f"
touch "$D/evil$(printf '\033')[31mred" "$D/tab$(printf '\t')name" "$D/bad$(printf '\377')name"
a backup --repo "$REPO" -q "$D" --tag ééééé

step "ls escapes control characters; --json keeps names that are not UTF-8 losslessly"
a ls --repo "$REPO" latest > "$T/ls.txt"
LC_ALL=C grep -q $'\033' "$T/ls.txt" && fail "ls printed a raw escape character"
grep -qF 'data/evil\x1b[31mred' "$T/ls.txt" || fail "ls does not show the escape as \\x1b"
grep -qF 'data/tab\tname' "$T/ls.txt" || fail "ls does not show the tab as \\t"
grep -qF 'data/bad\xffname' "$T/ls.txt" || fail "ls does not show the bad byte as \\xff"
a ls --repo "$REPO" latest --json > "$T/ls.json"
python3 - "$T/ls.json" <<'P'
import base64, json, sys
entries = json.load(open(sys.argv[1]))
raw = {base64.b64decode(e["path_b64"]) if "path_b64" in e else e["path"].encode() for e in entries}
assert b"data/bad\xffname" in raw, sorted(raw)
assert b"data/evil\x1b[31mred" in raw and "data/données/f".encode() in raw, sorted(raw)
assert all("path_b64" not in e for e in entries if e["path"].isprintable() and "\ufffd" not in e["path"])
P

step "ls -l says its time zone"
a ls --repo "$REPO" latest -l | grep -q " UTC data/a.txt$" || fail "ls -l does not state UTC"

step "diff lists changes in path order"
echo more >> "$D/a.txt"; echo more >> "$D/a/b"; rm "$D/données/f"; echo new > "$D/0"
a backup --repo "$REPO" -q "$D"
ids=$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["id"][:8], d[1]["id"][:8])')
a diff --repo "$REPO" $ids | grep '^[-+MU] ' | cut -c4- > "$T/diff.txt"
printf '%s\n' data/0 data/a/b data/a.txt 'data/données/f' | diff - "$T/diff.txt" || fail "diff is not in path order"

step "stats: tiny points do not show a compression ratio below 1; envelopes are shown apart"
a stats --repo "$REPO" > "$T/stats.txt"
ratio=$(sed -n 's/^compression ratio: *\([0-9.]*\)x.*/\1/p' "$T/stats.txt")
python3 -c "import sys; assert float('$ratio') >= 1, '$ratio'" || { cat "$T/stats.txt"; fail "compression ratio below 1"; }
grep -q "encryption envelopes" "$T/stats.txt" || fail "stats does not explain the envelope overhead"
a stats --repo "$REPO" latest | grep -q "^snapshots: *1 (6 files)$" || { a stats --repo "$REPO" latest; fail "stats file count"; }
a backup --repo "$REPO" -q "$D/0"
a stats --repo "$REPO" latest | grep -q "^snapshots: *1 (1 file)$" || { a stats --repo "$REPO" latest; fail "stats: 1 file"; }
a stats --repo "$REPO" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["compression_ratio"] >= 1 and d["compressed_bytes"] + d["envelope_bytes"] == d["unique_stored_bytes"], d'

step "the snapshots table's rule is as wide as its columns (UTF-8 counted in characters)"
a snapshots --repo "$REPO" > "$T/table.txt"
python3 - "$T/table.txt" <<'P'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
rule = lines[1]
assert set(rule) == {"-"}, rule
body = lines[:1] + lines[2:-1]
assert len(rule) == max(len(l) for l in body), (len(rule), [len(l) for l in body])
col = lines[0].index("Size")
for l in lines[2:-1]:
    assert l[col + 3] == "B", ("Size column misaligned", l)
P
grep -q "^3 snapshots$" "$T/table.txt" || fail "snapshot count"
a snapshots --repo "$REPO" --tag ééééé | grep -q "^1 snapshot$" || fail "singular snapshot"
echo PASS
