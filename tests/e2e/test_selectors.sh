#!/usr/bin/env bash
# restic's selectors (--host, --path, --tag) choose what 'latest' means for restore, ls, diff,
# stats and cat, and filter snapshots (relative --path made absolute); an id outside the
# selectors and an unknown --kind are errors that say so.
source "$(dirname "$0")/lib.sh"
init_repo
mkdir -p "$T/data/src" "$T/data/etc"
echo "source v1" > "$T/data/src/main.c"
echo "config" > "$T/data/etc/app.conf"
id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
src1=$(cd "$T" && a backup --repo "$REPO" --json data/src --tag code | id)
echo "source v2" > "$T/data/src/main.c"
src2=$(cd "$T" && a backup --repo "$REPO" --json data/src --tag code | id)
etc=$(cd "$T" && a backup --repo "$REPO" --json data/etc --host other --tag conf,daily | id)

step "restore latest --path picks that job's newest point, not the repository's newest"
(cd "$T" && a restore --repo "$REPO" latest --path data/src --target "$T/out" -q)
[ "$(cat "$T/out/src/main.c")" = "source v2" ] || fail "restore latest --path restored the wrong point"
[ ! -e "$T/out/etc" ] || fail "restore latest --path restored the other job"
a restore --repo "$REPO" latest --host other --target "$T/out2" -q
[ -f "$T/out2/etc/app.conf" ] || fail "restore latest --host restored the wrong point"
expect_exit 10 a restore --repo "$REPO" latest --tag code,daily --target "$T/out3"
err_contains "no recovery point matches tag code, tag daily"

step "an id outside the selectors is refused instead of used"
expect_exit 2 a restore --repo "$REPO" "${etc:0:8}" --path "$T/data/src" --target "$T/out4"
err_contains "does not match path $T/data/src"

step "ls, cat, stats and diff take the same selectors"
a ls --repo "$REPO" latest --tag code | grep -q "^src/main.c$" || fail "ls latest --tag code"
a ls --repo "$REPO" latest --host other | grep -q "^etc/app.conf$" || fail "ls latest --host other"
[ "$(a cat --repo "$REPO" file latest src/main.c --path "$T/data/src")" = "source v2" ] || fail "cat file latest --path"
a cat --repo "$REPO" snapshot latest --host other | grep -q '"host": "other"' || fail "cat snapshot latest --host"
a stats --repo "$REPO" --tag code --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["snapshots"]==2, d'
a diff --repo "$REPO" "${src1:0:8}" latest --tag code --json > "$T/diff.json"
python3 - "$T/diff.json" "$src2" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["to"] == sys.argv[2], d["to"]
assert [c["path"] for c in d["changes"]] == ["src/main.c"], d["changes"]
P

step "snapshots --path takes relative paths; --kind names unknown kinds"
(cd "$T/data" && a snapshots --repo "$REPO" --path src --json) | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==2, len(d)'
a snapshots --repo "$REPO" --tag daily --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==1, len(d)'
expect_exit 2 a snapshots --repo "$REPO" --kind foo
err_contains "unknown kind 'foo' (known: files, kafka, postgres, postgres-dump, redis)"
a snapshots --repo "$REPO" --kind redis | grep -q "^0 snapshots$" || fail "a known kind with no points lists none"

step "tags and hosts are trimmed; whitespace-only ones are refused"
a backup --repo "$REPO" "$T/data/etc" -q --tag 'trim1, trim2' --host ' vm7 '
a snapshots --repo "$REPO" --host vm7 --json | python3 -c '
import json,sys; d=json.load(sys.stdin); assert len(d)==1, d; assert d[0]["host"]=="vm7", d; assert d[0]["tags"]==["trim1","trim2"], d'
a snapshots --repo "$REPO" --host ' vm7' --tag ' trim2' --json | python3 -c 'import json,sys; assert len(json.load(sys.stdin))==1'
expect_exit 2 a backup --repo "$REPO" "$T/data/etc" --tag ' '
expect_exit 2 a backup --repo "$REPO" "$T/data/etc" --host '  '
err_contains "only whitespace"
expect_exit 2 a snapshots --repo "$REPO" --host ' '
expect_exit 2 a forget --repo "$REPO" --keep-last 1 --host ' '

step "forget --source/--path that names no point is an error naming the known sources"
expect_exit 10 a forget --repo "$REPO" --keep-last 1 --source nope --dry-run
err_contains "no recovery point has source 'nope' (known sources: "
err_contains "$T/data/etc"
expect_exit 10 a forget --repo "$REPO" --keep-last 1 --path /nope --dry-run
err_contains "no recovery point has path /nope"
a forget --repo "$REPO" --keep-last 1 --source nope --host vm7 --dry-run >/dev/null  # with other selectors: no error
echo PASS
