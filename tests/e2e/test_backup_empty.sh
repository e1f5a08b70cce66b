#!/usr/bin/env bash
# A backup whose excludes leave nothing beneath its paths saves no point (exit 2, says why);
# the same path given twice is backed up once.
source "$(dirname "$0")/lib.sh"

init_repo
mkdir -p "$T/data/x/sub" "$T/data/src"
echo a > "$T/data/x/a"; echo b > "$T/data/x/sub/b"; echo c > "$T/data/src/c"

step "every entry excluded: nothing saved, exit 2, text and --json"
expect_exit 2 a backup --repo "$REPO" "$T/data/x" -e '*'
err_contains "the recovery point is empty: every entry was excluded"
expect_exit 2 a backup --repo "$REPO" "$T/data/x" -e '*' --json
err_contains "the recovery point is empty"
[ -z "$(ls "$REPO/snapshots")" ] || fail "an empty point was saved"
a check --repo "$REPO" -q

step "something left: saved"
a backup --repo "$REPO" "$T/data/x" -e 'sub' -q
[ "$(ls "$REPO/snapshots" | wc -l)" = 1 ] || fail "no point saved"

step "the same path twice is one path"
cd "$T"
a backup --repo "$REPO" data/src/ data/src --json > "$T/out.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["paths"])==1, d["paths"]' "$T/out.json"
echo PASS
