#!/usr/bin/env bash
# arca forget: rules by count and tag, a policy file with the spec's retention table, dry run
# equal to the run, confirmation for plans that empty a source or whose rules contradict, clear
# errors for malformed policies; what is kept still restores after prune.
source "$(dirname "$0")/lib.sh"
init_repo
mkdir -p "$T/db" "$T/cache"
snap() { a backup --repo "$REPO" --json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"][:8])'; }
for i in 1 2 3 4; do echo "db $i" > "$T/db/f"; snap "$T/db" --tag auto > "$T/db-auto-$i"; done
echo "db manual" > "$T/db/f"; snap "$T/db" --tag manual > "$T/db-manual"
echo "db compliance" > "$T/db/f"; snap "$T/db" --tag compliance > "$T/db-compliance"
echo "db 5" > "$T/db/f"; cp -a "$T/db" "$T/db-last"; snap "$T/db" --tag auto > "$T/db-auto-5"
for i in 1 2 3; do echo "cache $i" > "$T/cache/f"; snap "$T/cache" > "$T/cache-$i"; done
count() { a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
[ "$(count)" = 10 ] || fail "expected 10 recovery points"

step "rules by count: the newest of each source is kept; dry run shows the rule that decided"
a forget --repo "$REPO" --keep-last 2 --dry-run --json > "$T/dry.json"
python3 - "$T/dry.json" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["dry_run"] and d["removed"] == 6, d["removed"]
for s in d["snapshots"]:
    assert s["reasons"], s
    if s["keep"]: assert "last" in s["reasons"], s
P
[ "$(count)" = 10 ] || fail "dry run removed something"

step "a policy file applies the spec's retention table in one run"
cat > "$T/policy.json" <<'J'
{"group_by": ["host", "source"],
 "rules": [
  {"name": "compliance copies", "match": {"tags": ["compliance"]}, "keep": {"within": "7y"}},
  {"name": "manual backups", "match": {"tags": ["manual"]}, "keep": {"within": "90d"}},
  {"name": "automated backups", "match": {"tags": ["auto"]}, "keep": {"last": 2}},
  {"name": "cache", "match": {"source": "CACHE"}, "keep": {"last": 1}}
 ]}
J
sed -i "s|CACHE|$T/cache|" "$T/policy.json"
a forget --repo "$REPO" --policy "$T/policy.json" --dry-run --json > "$T/plan.json"
a forget --repo "$REPO" --policy "$T/policy.json" --json > "$T/run.json"
python3 - "$T/plan.json" "$T/run.json" "$T" <<'P'
import json, sys
plan, run, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
strip = lambda d: sorted((s["id"], s["keep"], tuple(s["reasons"]), s["rule"]) for s in d["snapshots"])
assert strip(plan) == strip(run), "dry run and run differ"
keep = {s["short_id"]: s for s in run["snapshots"] if s["keep"]}
ids = lambda n: open(f"{t}/{n}").read().strip()
want = {ids("db-compliance"), ids("db-manual"), ids("db-auto-5"), ids("db-auto-4"), ids("cache-3")}
assert set(keep) == want, (sorted(keep), sorted(want))
assert keep[ids("db-compliance")]["rule"] == "compliance copies"
assert keep[ids("db-auto-4")]["reasons"] == ["last"]
assert run["removed"] == 5
P
[ "$(count)" = 5 ] || fail "expected 5 recovery points after the policy"

step "a rule that can never apply is a contradiction: refused without --yes"
cat > "$T/shadow.json" <<'J'
{"rules": [{"name": "all db", "match": {"kind": "files"}, "keep": {"last": 3}},
           {"name": "manual", "match": {"kind": "files", "tags": ["manual"]}, "keep": {"within": "90d"}}]}
J
expect_exit 15 a forget --repo "$REPO" --policy "$T/shadow.json" < /dev/null
err_contains "rule 'manual'"
err_contains "--yes"
[ "$(count)" = 5 ] || fail "a refused plan removed something"
a forget --repo "$REPO" --policy "$T/shadow.json" --yes -q

step "removing every recovery point of a source needs confirmation"
expect_exit 15 a forget --repo "$REPO" "$(cat "$T/cache-3")" < /dev/null
err_contains "every recovery point of"
a forget --repo "$REPO" "$(cat "$T/cache-3")" --yes -q
a snapshots --repo "$REPO" --json | grep -q "$(cat "$T/cache-3")" && fail "the confirmed removal did not happen"

step "malformed policies are usage errors that name the problem"
echo '{"rules": [{"match": {"kind": "files"}, "keep": {"within": "30x"}}]}' > "$T/bad1.json"
expect_exit 2 a forget --repo "$REPO" --policy "$T/bad1.json"
err_contains "30x"
echo '{"rules": [{"match": {"knid": "files"}, "keep": {"last": 1}}]}' > "$T/bad2.json"
expect_exit 2 a forget --repo "$REPO" --policy "$T/bad2.json"
err_contains "knid"
echo '{"rules": [' > "$T/bad3.json"
expect_exit 2 a forget --repo "$REPO" --policy "$T/bad3.json"
err_contains "not valid JSON"
echo '{"rules": [{"match": {"kind": "files"}, "keep": {"tags": []}}]}' > "$T/bad4.json"
expect_exit 2 a forget --repo "$REPO" --policy "$T/bad4.json"
err_contains "tags is empty"
expect_exit 2 a forget --repo "$REPO"
err_contains "no retention rule"
expect_exit 2 a forget --repo "$REPO" --keep-last 1 --policy "$T/policy.json"

step "what is kept still restores, byte for byte, after prune"
a prune --repo "$REPO" --grace 0 -q
a check --repo "$REPO" --read-data -q
a restore --repo "$REPO" "$(cat "$T/db-auto-5")" --target "$T/out" -q
same_tree "$T/db-last" "$T/out/db"
step "jobs are host + path set: two multi-path jobs are separate groups (issue 17 A1)"
R2=$T/repo2
init_repo "$R2"
mkdir -p "$T/data/src" "$T/data/docs" "$T/data/x" "$T/data/y"
echo s > "$T/data/src/f"; echo d > "$T/data/docs/f"; echo x > "$T/data/x/f"; echo y > "$T/data/y/f"
(cd "$T" && a backup --repo "$R2" -q data/src data/docs)
echo s2 >> "$T/data/src/f"
# The same job given in another order: same group, and the first point is its parent.
newest=$(cd "$T" && a backup --repo "$R2" --json data/docs data/src | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["parent"], d; print(d["id"])')
(cd "$T" && a backup --repo "$R2" -q data/x data/y)
a forget --repo "$R2" --keep-last 1 --json > "$T/a1.json"
python3 - "$T/a1.json" "$newest" <<'PY'
import json, sys
d, newest = json.load(open(sys.argv[1])), sys.argv[2]
kept = [s for s in d["snapshots"] if s["keep"]]
assert d["removed"] == 1, d
assert newest in [s["id"] for s in kept], "the newest src+docs point was removed"
assert len({s["group"] for s in d["snapshots"]}) == 2, [s["group"] for s in d["snapshots"]]
gone = [s for s in d["snapshots"] if not s["keep"]][0]
assert gone["reasons"] == ["not kept by the --keep options (last 1)"], gone["reasons"]
PY
# Removing the whole src+docs job by id needs confirmation although another 2-path job remains.
expect_exit 15 a forget --repo "$R2" "${newest:0:8}" < /dev/null
err_contains "every recovery point of"

step "--tag a,b is two tags everywhere; an empty tag is a usage error (issue 17 A2)"
echo t > "$T/data/x/f"
(cd "$T" && a backup --repo "$R2" -q data/x data/y --tag keep,weekly)
(cd "$T" && a backup --repo "$R2" -q data/x data/y --tag other)
a snapshots --repo "$R2" --tag weekly --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==1 and d[0]["tags"]==["keep","weekly"], d'
a forget --repo "$R2" --keep-last 1 --keep-tag keep --json | python3 -c '
import json,sys
d = json.load(sys.stdin)
assert [s["tags"] for s in d["snapshots"] if s["keep"] and s["tags"]] == [["other"], ["keep", "weekly"]], d'
expect_exit 2 a backup --repo "$R2" "$T/data/x" --tag a,,b
err_contains "empty tag"
expect_exit 2 a forget --repo "$R2" --keep-tag "" --keep-last 1
err_contains "empty tag"

step "forget --path selects points by path like the other commands (relative paths made absolute)"
R3=$T/repo3
init_repo "$R3"
(cd "$T" && a backup --repo "$R3" -q data/x && a backup --repo "$R3" -q data/y && a backup --repo "$R3" -q data/x \
  && a backup --repo "$R3" -q data/x data/y)
(cd "$T" && a forget --repo "$R3" --path data/x --keep-last 1 --group-by none --yes --json) | python3 -c '
import json,sys
d = json.load(sys.stdin)
assert d["removed"] == 2, d
kept = sorted(s["source"].replace(s["source"].split("data/")[0], "") for s in d["snapshots"] if s["keep"])
assert kept == ["data/x, data/y", "data/y"], kept
assert [s["reasons"] for s in d["snapshots"] if s["source"].endswith("/data/y") and "," not in s["source"]] == [["no rule matches"]], d'
[ "$(ls "$R3/snapshots" | wc -l)" = 2 ] || fail "forget --path removed other points"
expect_exit 2 a forget --repo "$R3" --policy /dev/null --path /x
err_contains "do not combine"
echo PASS
