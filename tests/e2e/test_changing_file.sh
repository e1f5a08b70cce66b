#!/usr/bin/env bash
# A file that grows while it is backed up: the backup finishes (it reads no more than the size
# it listed), warns that the file changed, and the snapshot holds a consistent prefix.
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/src"
head -c 30000000 /dev/urandom > "$T/src/big.bin"
seq 1 2000000 > "$T/src/growing.log"
init_repo
( while :; do echo "appended line $RANDOM" >> "$T/src/growing.log"; done ) &
writer=$!
sleep 0.2
a backup --repo "$REPO" "$T/src" --json > "$T/b.json" 2> "$T/berr"
kill "$writer"; wait "$writer" 2>/dev/null || true
python3 - "$T/b.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
w = [x for x in s["warnings"] if x["path"].endswith("growing.log")]
assert w and "changed while being read" in w[0]["message"], s["warnings"]
assert s["partial"] is False, "a changed file is a warning, not a failure"
PY
grep -q "changed while being read" "$T/berr" || fail "no warning on stderr"
a restore --repo "$REPO" latest --target "$T/out" -q
n=$(stat -c %s "$T/out/src/growing.log")
[ "$n" -ge "$(seq 1 2000000 | wc -c)" ] || fail "restored log shorter than before the backup"
cmp -n "$n" "$T/out/src/growing.log" "$T/src/growing.log" || fail "restored log is not a prefix of the file"
cmp "$T/out/src/big.bin" "$T/src/big.bin"
echo PASS
