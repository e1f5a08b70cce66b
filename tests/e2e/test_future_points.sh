#!/usr/bin/env bash
# Future-dated recovery points (issue 18 #2; docs/security.md, "Future-dated recovery points"):
# a host holding only an append-only key, its clock set to 2099, backs up as a real host and
# source. The operator's ordinary forget --keep-within 30d / --keep-last 1 keeps the genuine
# history, 'restore latest' and 'ls latest' take the newest genuine point and say they skipped
# one, snapshots and check flag it, and snapshots --json names the key that wrote each point.
# Then: one newer point (a source resuming after a pause) that would make forget remove more
# than it keeps asks first.
source "$(dirname "$0")/lib.sh"

# A clock set forward or back: arca's own binary under an LD_PRELOAD shim that shifts
# CLOCK_REALTIME by $CLOCK_OFFSET seconds (no test hook in arca itself).
cat > "$T/shift.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
static long offset(void) { const char* s = getenv("CLOCK_OFFSET"); return s ? atol(s) : 0; }
int clock_gettime(clockid_t c, struct timespec* ts) {
  static int (*real)(clockid_t, struct timespec*);
  if (!real) real = (int (*)(clockid_t, struct timespec*))dlsym(RTLD_NEXT, "clock_gettime");
  int r = real(c, ts);
  if (r == 0 && (c == CLOCK_REALTIME || c == CLOCK_REALTIME_COARSE)) ts->tv_sec += offset();
  return r;
}
time_t time(time_t* t) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (t) *t = ts.tv_sec;
  return ts.tv_sec;
}
int gettimeofday(struct timeval* tv, void* tz) {
  (void)tz;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (tv) tv->tv_sec = ts.tv_sec, tv->tv_usec = ts.tv_nsec / 1000;
  return 0;
}
EOF
cc -shared -fPIC -O1 -o "$T/shift.so" "$T/shift.c" -ldl || fail "cannot build the clock shim"
DAY=86400
at() { local off=$1; shift; CLOCK_OFFSET=$off LD_PRELOAD=$T/shift.so "$ARCA" "$@"; }
[ "$(CLOCK_OFFSET=$((10 * DAY)) LD_PRELOAD=$T/shift.so date -u +%s)" -gt $(( $(date -u +%s) + 9 * DAY )) ] ||
  fail "the clock shim does not shift the clock"

init_repo
echo "host-secret" > "$T/host-pw"
a key add --repo "$REPO" --append-only --new-password-file "$T/host-pw" --kdf-memory 8192 --kdf-time 1 -q
host_key=$(a key list --repo "$REPO" --json | python3 -c 'import json,sys; print([k["id"] for k in json.load(sys.stdin) if k["role"]=="append-only"][0])')
full_key=$(a key list --repo "$REPO" --json | python3 -c 'import json,sys; print([k["id"] for k in json.load(sys.stdin) if k["role"]=="full"][0])')
SRC=$T/data
mkdir -p "$SRC"

step "genuine history of host web1: 40, 20 and 1 day(s) ago, and now"
for off in $((-40 * DAY)) $((-20 * DAY)) $((-1 * DAY)) 0; do
  echo "genuine $off" > "$SRC/file.txt"
  at "$off" backup --repo "$REPO" --host web1 "$SRC" -q
done

step "the compromised host's append-only key plants a point dated ~2099 for web1 and the same path"
echo "planted" > "$SRC/file.txt"
ARCA_PASSWORD=host-secret at $((73 * 365 * DAY)) backup --repo "$REPO" --host web1 "$SRC" -q
echo "genuine 0" > "$SRC/file.txt"
a snapshots --repo "$REPO" --json > "$T/snaps.json"
python3 - "$T/snaps.json" "$host_key" "$full_key" <<'EOF'
import json, sys
snaps, host_key, full_key = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
assert len(snaps) == 5, snaps
future = [s for s in snaps if s["future_dated"]]
assert len(future) == 1 and future[0]["time"].startswith("20") and future[0]["time"] > "2090", future
assert future[0]["key_id"] == host_key, (future[0]["key_id"], host_key)
assert all(s["key_id"] == full_key for s in snaps if not s["future_dated"]), snaps
assert "ahead of this machine's clock" in future[0]["future_dated_reason"]
assert all(s["signature"] == "verified" for s in snaps), [s["signature"] for s in snaps]
EOF
planted=$(python3 -c 'import json,sys; print([s["short_id"] for s in json.load(open(sys.argv[1])) if s["future_dated"]][0])' "$T/snaps.json")
newest=$(python3 -c 'import json,sys; print([s["short_id"] for s in json.load(open(sys.argv[1])) if not s["future_dated"]][-1])' "$T/snaps.json")

step "snapshots marks it (and --long shows the keys); check warns and exits 0"
a snapshots --repo "$REPO" --long > "$T/list" 2> "$T/err"
grep "^$planted" "$T/list" | grep -q "(future!)" || { cat "$T/list"; fail "snapshots does not mark $planted"; }
grep "^$planted" "$T/list" | grep -q "${host_key:0:8} (verified)" || { cat "$T/list"; fail "snapshots --long lacks the key"; }
grep -q "^$newest.*${full_key:0:8}" "$T/list" || { cat "$T/list"; fail "snapshots --long lacks the operator's key"; }
err_contains "snapshot $planted is future-dated"
expect_exit 0 a check --repo "$REPO"
err_contains "warning: snapshots/$planted.*future-dated"
a check --repo "$REPO" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["ok"] and len(r["warnings"]) == 1 and "future-dated" in r["warnings"][0]["message"], r'

step "restore latest and ls latest take the newest genuine point, and say what they skipped"
a restore --repo "$REPO" latest --target "$T/out" -q 2> "$T/err"
err_contains "recovery point $planted .*'latest' never picks a future-dated point"
[ "$(cat "$T/out/data/file.txt")" = "genuine 0" ] || fail "restore latest restored: $(cat "$T/out/data/file.txt")"
a restore --repo "$REPO" latest --host web1 --target "$T/out2" -q 2> "$T/err"
[ "$(cat "$T/out2/data/file.txt")" = "genuine 0" ] || fail "restore latest --host restored the planted point"
a ls --repo "$REPO" latest > /dev/null 2> "$T/err"
err_contains "recovery point $planted"
a restore --repo "$REPO" "$planted" --target "$T/out3" -q   # by id it can still be looked at
[ "$(cat "$T/out3/data/file.txt")" = "planted" ] || fail "restore by id"

step "forget --keep-within 30d and --keep-last 1 count from the genuine points; the planted one is kept and named"
a forget --repo "$REPO" --keep-within 30d --dry-run --json 2> "$T/err" > "$T/plan.json"
err_contains "recovery point $planted (host web1) is future-dated"
python3 - "$T/plan.json" "$planted" <<'EOF'
import json, sys
plan, planted = json.load(open(sys.argv[1])), sys.argv[2]
items = plan["snapshots"]
assert plan["removed"] == 1, plan            # only the point 40 days old
f = [i for i in items if i["short_id"] == planted][0]
assert f["keep"] and f["future_dated"] and "future-dated" in f["reasons"][0], f
assert sum(1 for i in items if i["keep"] and not i["future_dated"]) == 3, items
EOF
a forget --repo "$REPO" --keep-last 1 --dry-run > "$T/out.txt" 2> "$T/err"
grep -q "^$newest .* keep " "$T/out.txt" || { cat "$T/out.txt"; fail "keep-last 1 does not keep the newest genuine point"; }
grep -q "^$planted .*keep (future-dated)" "$T/out.txt" || { cat "$T/out.txt"; fail "forget does not show the planted point as future-dated"; }
a forget --repo "$REPO" --keep-within 30d -q
a snapshots --repo "$REPO" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert len(s) == 4 and sum(x["future_dated"] for x in s) == 1, s'

step "the next genuine backup of web1 does not take the planted point as its parent"
a backup --repo "$REPO" --host web1 "$SRC" -q 2> "$T/err"
err_contains "recovery point $planted"
a snapshots --repo "$REPO" --json | python3 -c '
import json, sys
s = [x for x in json.load(sys.stdin) if not x["future_dated"]]
assert s[-1]["parent"] and s[-1]["parent"].startswith(sys.argv[1]), (s[-1]["parent"], sys.argv[1])' "$newest"

step "one newer point that makes forget remove more than it keeps asks first"
R2=$T/repo2
init_repo "$R2"
for d in 60 59 58 57; do
  echo "old $d" > "$SRC/file.txt"
  at $((-d * DAY)) backup --repo "$R2" --host web2 "$SRC" -q
done
echo "resumed" > "$SRC/file.txt"
a backup --repo "$R2" --host web2 "$SRC" -q
resumed=$(a snapshots --repo "$R2" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["short_id"])')
expect_exit 15 a forget --repo "$R2" --keep-within 30d < /dev/null
err_contains "the newest recovery point $resumed .*makes this run remove 4 point(s) that would be kept without it"
err_contains "re-run with --yes"
[ "$(a snapshots --repo "$R2" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 5 ] ||
  fail "a refused forget removed something"
a forget --repo "$R2" --keep-within 30d --yes -q
[ "$(a snapshots --repo "$R2" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
  fail "forget --yes did not go ahead"

step "two points planted just inside the allowance on a source that stopped ask too (not only one)"
R3=$T/repo3
init_repo "$R3"
a key add --repo "$R3" --append-only --new-password-file "$T/host-pw" --kdf-memory 8192 --kdf-time 1 -q
host_key3=$(a key list --repo "$R3" --json | python3 -c 'import json,sys; print([k["id"] for k in json.load(sys.stdin) if k["role"]=="append-only"][0])')
for d in 45 44 43 42 41; do
  echo "stopped $d" > "$SRC/file.txt"
  at $((-d * DAY)) backup --repo "$R3" --host web3 "$SRC" -q
done
echo "planted" > "$SRC/file.txt"
ARCA_PASSWORD=host-secret at 200 backup --repo "$R3" --host web3 "$SRC" -q
expect_exit 15 a forget --repo "$R3" --keep-within 30d < /dev/null
err_contains "the newest recovery point .*makes this run remove 5 point(s)"
ARCA_PASSWORD=host-secret at 230 backup --repo "$R3" --host web3 "$SRC" -q
expect_exit 15 a forget --repo "$R3" --keep-within 30d < /dev/null
err_contains "the 2 newest recovery points .*written by key ${host_key3:0:8}, verified)"
err_contains "make this run remove 5 point(s) that would be kept without them (5 removed, 2 kept)"
[ "$(a snapshots --repo "$R3" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 7 ] ||
  fail "a refused forget removed genuine points"
echo "OK"
