#!/usr/bin/env bash
# Retention locks: forget and prune never remove a locked recovery point or its data; every
# refusal names the lock; a governance lock lifts only with the right, unused TOTP code; a
# compliance lock cannot be lifted; a legal hold holds until released.
source "$(dirname "$0")/lib.sh"
init_repo
SRC=$T/src
mkdir -p "$SRC"
ids=()
for i in 1 2 3 4; do
  head -c 200000 /dev/urandom > "$SRC/f$i"; rm -f "$SRC/f$((i - 1))"
  cp -a "$SRC" "$T/state$i"
  ids+=("$(a backup --repo "$REPO" "$SRC" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"][:8])')")
done
totp() {  # RFC 6238 code for base32 secret $1 at time offset $2 steps (or at step $3)
  python3 - "$1" "${2:-0}" "${3:-}" <<'P'
import base64, hashlib, hmac, struct, sys, time
s = sys.argv[1]; s += "=" * (-len(s) % 8)
key = base64.b32decode(s)
c = int(sys.argv[3]) if sys.argv[3] else int(time.time()) // 30 + int(sys.argv[2])
h = hmac.new(key, struct.pack(">Q", c), hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 1000000))
P
}

step "spans: a bare m is refused (months or minutes?); a compliance lock needs its end date confirmed"
expect_exit 2 a lock add --repo "$REPO" "${ids[1]}" --mode compliance --for 30m
err_contains "'m' is ambiguous: write 30mo for months or 30min for minutes"
expect_exit 2 a prune --repo "$REPO" --grace 3m
err_contains "'m' is ambiguous"
expect_exit 15 a lock add --repo "$REPO" "${ids[1]}" --mode compliance --for 30min < /dev/null
err_contains "compliance lock on 1 recovery point(s) until 20"
err_contains "add --yes to confirm"
[ "$(a lock list --repo "$REPO" --json)" = "[]" ] || fail "an unconfirmed compliance lock was added"

step "lock: governance on #1, compliance on #2, legal hold on #3"
a lock add --repo "$REPO" "${ids[0]}" --mode governance --for 30d --reason "audit 2026" -q
a lock add --repo "$REPO" "${ids[1]}" --mode compliance --for 1d --yes -q
a lock add --repo "$REPO" "${ids[2]}" --mode legal-hold --reason "case 42" -q
a lock list --repo "$REPO" --json > "$T/locks.json"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/locks.json")" = 3 ] || fail "expected 3 locks"
gov=$(python3 -c 'import json,sys; print([l["id"][:8] for l in json.load(open(sys.argv[1])) if l["mode"]=="governance"][0])' "$T/locks.json")
comp=$(python3 -c 'import json,sys; print([l["id"][:8] for l in json.load(open(sys.argv[1])) if l["mode"]=="compliance"][0])' "$T/locks.json")
hold=$(python3 -c 'import json,sys; print([l["id"][:8] for l in json.load(open(sys.argv[1])) if l["mode"]=="legal-hold"][0])' "$T/locks.json")

a snapshots --repo "$REPO" --json | python3 -c '
import json, sys
by = {s["short_id"]: [l["mode"] for l in s["locks"]] for s in json.load(sys.stdin)}
ids = sys.argv[1:]
assert by[ids[0]] == ["governance"] and by[ids[1]] == ["compliance"] and by[ids[2]] == ["legal-hold"] and by[ids[3]] == [], by
' "${ids[@]}"
a snapshots --repo "$REPO" | grep "${ids[1]}" | grep -q "compliance" || fail "snapshots does not show the lock"

step "forget by id refuses a locked recovery point and names the lock"
expect_exit 15 a forget --repo "$REPO" "${ids[0]}" --yes
err_contains "governance lock $gov"
expect_exit 15 a forget --repo "$REPO" "${ids[1]}" --yes
err_contains "compliance lock $comp"
expect_exit 15 a forget --repo "$REPO" "${ids[2]}" --yes
err_contains "legal hold $hold"

step "a policy keeps locked recovery points, saying why; prune keeps their data"
a forget --repo "$REPO" --keep-last 1 --json > "$T/f.json"
python3 - "$T/f.json" "${ids[@]}" <<'P'
import json, sys
d = json.load(open(sys.argv[1])); ids = sys.argv[2:]
by = {s["short_id"]: s for s in d["snapshots"]}
for i in ids[:3]:
    assert by[i]["keep"] and any(r.startswith("locked: ") for r in by[i]["reasons"]), by[i]
assert by[ids[3]]["keep"] and d["removed"] == 0
P
a prune --repo "$REPO" --grace 0 -q
a check --repo "$REPO" --read-data -q
for i in 0 1 2; do
  rm -rf "$T/out"; a restore --repo "$REPO" "${ids[$i]}" --target "$T/out" -q
  same_tree "$T/state$((i + 1))" "$T/out/src"
done

step "lifting needs an enrolled second factor and the right code"
expect_exit 15 a lock release --repo "$REPO" "$gov" --totp 123456
err_contains "mfa enroll"
a mfa enroll --repo "$REPO" --json > "$T/mfa.json"
secret=$(json_field "$T/mfa.json" '["secret"]')
expect_exit 2 a mfa enroll --repo "$REPO"
err_contains "already enrolled"
gstep=$(( $(date +%s) / 30 )); good=$(totp "$secret" 0 "$gstep")
wrong=$(printf '%06d' $(( (10#$good + 500000) % 1000000 )))
expect_exit 11 a lock release --repo "$REPO" "$gov" --totp "$wrong"
err_contains "wrong or expired TOTP code"
expect_exit 11 a lock release --repo "$REPO" "$gov" --totp "$(totp "$secret" -5)"   # 2.5 minutes old
expect_exit 2 a lock release --repo "$REPO" "$gov" --totp 12ab56

step "a compliance lock cannot be lifted, even with a valid code"
expect_exit 15 a lock release --repo "$REPO" "$comp" --totp "$good"
err_contains "compliance lock $comp"
err_contains "nobody can lift"

step "the right code lifts the governance lock, once"
a lock release --repo "$REPO" "$gov" --totp "$good" --reason "audit closed" -q
expect_exit 2 a lock release --repo "$REPO" "$gov" --totp "$good"
a lock add --repo "$REPO" "${ids[3]}" --mode governance --for 1d -q
gov2=$(a lock list --repo "$REPO" --json | python3 -c 'import json,sys; print([l["id"][:8] for l in json.load(sys.stdin) if l["mode"]=="governance"][0])')
expect_exit 11 a lock release --repo "$REPO" "$gov2" --totp "$good"   # a spent code is refused
err_contains "already used"
a forget --repo "$REPO" "${ids[0]}" -q
gone() { a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; sys.exit(any(s["id"].startswith(sys.argv[1]) for s in json.load(sys.stdin)))' "$1"; }
gone "${ids[0]}" || fail "the unlocked recovery point was not forgotten"

step "a legal hold holds until released (with a code), then the recovery point can go"
expect_exit 15 a forget --repo "$REPO" "${ids[2]}"
# The hold's code is of the oldest step of the window that the first release did not spend and
# that stays valid 10 s more: the race below then finds a newer unspent step at once (with the
# next step spent here, it waited for the clock in most runs, up to 15 s).
t=$(date +%s); now=$((t / 30))
if [ $((now - 1)) != "$gstep" ] && [ $((30 - t % 30)) -ge 10 ]; then nstep=$((now - 1))
elif [ "$now" != "$gstep" ]; then nstep=$now
else nstep=$((now + 1)); fi
next=$(totp "$secret" 0 "$nstep")
a lock release --repo "$REPO" "$hold" --totp "$next" -q
a forget --repo "$REPO" "${ids[2]}" -q
gone "${ids[2]}" || fail "the released recovery point was not forgotten"
a lock list --repo "$REPO" --all --json | python3 -c '
import json, sys
ls = json.load(sys.stdin)
assert any(l["mode"] == "compliance" and l["active"] for l in ls), ls'

step "two concurrent releases with one code: at most one succeeds (also on stores without conditional writes)"
a lock add --repo "$REPO" "${ids[3]}" --mode governance --for 1d -q
a lock add --repo "$REPO" "${ids[3]}" --mode legal-hold -q
mapfile -t race < <(a lock list --repo "$REPO" --json | python3 -c '
import json,sys; print("\n".join(l["id"][:8] for l in json.load(sys.stdin) if l["mode"] != "compliance"))')
[ "${#race[@]}" = 3 ] || fail "expected 3 liftable locks, got ${race[*]}"
pick() {  # a step of the window (now ± 1) that no earlier release spent
  local t now
  t=$(date +%s); now=$((t / 30))
  for s in $((now + 1)) $now; do [ "$s" != "$gstep" ] && [ "$s" != "$nstep" ] && return 0; done
  # The oldest only while 15 s of its validity are left for the three releases (it expires when the
  # current step ends); waiting for the next step instead cost up to 30 s in most runs.
  s=$((now - 1))
  [ $((30 - t % 30)) -ge 15 ] && [ "$s" != "$gstep" ] && [ "$s" != "$nstep" ]
}
pick || { sleep $((30 - $(date +%s) % 30)); pick; }
code=$(totp "$secret" 0 "$s")
for i in 0 1 2; do (set +e; a lock release --repo "$REPO" "${race[$i]}" --totp "$code" -q 2> "$T/race$i.err"; echo $? > "$T/race$i.rc") & done
wait
ok=0; for i in 0 1 2; do [ "$(cat "$T/race$i.rc")" = 0 ] && ok=$((ok + 1)); done
[ "$ok" -le 1 ] || fail "one TOTP code released $ok locks"
[ "${ARCA_TEST_ON_S3:-}" = 1 ] || [ "$ok" = 1 ] || fail "no release succeeded: $(cat "$T"/race*.err)"
cat "$T"/race*.err | grep -v "already used" | grep . && fail "a release failed otherwise"

step "locks need a valid mode and time"
expect_exit 2 a lock add --repo "$REPO" "${ids[3]}" --mode governance
err_contains "--until"
expect_exit 2 a lock add --repo "$REPO" "${ids[3]}" --mode compliance --until 2001-01-01T00:00:00Z
err_contains "in the past"
expect_exit 2 a lock add --repo "$REPO" "${ids[3]}" --mode forever --for 1d
expect_exit 2 a lock add --repo "$REPO" "${ids[3]}" --mode legal-hold --for 1d
expect_exit 2 a lock add --repo "$REPO" "${ids[3]}" --mode compliance --for 1d --yes --store-lock on
err_contains "Object Lock"
echo PASS
