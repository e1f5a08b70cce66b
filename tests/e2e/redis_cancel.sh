#!/usr/bin/env bash
# Redis: SIGINT/SIGTERM cancel a backup (while the server streams its RDB) and a verify (while it
# restores the RDB or loads the scratch server): exit 130 within the limit, no recovery point
# published, the scratch server stopped and its directory removed, and the next run works.
source "$(dirname "$0")/lib_redis.sh"

LIMIT=${CANCEL_LIMIT_S:-1.5}
now() { date +%s.%N; }
# cancel_run NAME SIGNAL READY-TEST -- COMMAND... (as in test_cancel.sh)
cancel_run() {
  local name=$1 sig=$2 ready=$3
  shift 4
  set +e
  "$@" > "$T/.stdout" 2> "$T/err" &
  local pid=$! waited=0
  until eval "$ready"; do
    sleep 0.02
    waited=$((waited + 1))
    if ! kill -0 $pid 2>/dev/null; then
      wait $pid; cat "$T/err" >&2
      fail "$name ended before it could be cancelled (test inconclusive: more data needed)"
    fi
    [ $waited -lt 3000 ] || { kill -9 $pid; fail "$name never got busy"; }
  done
  local t0 t1 rc latency
  t0=$(now); kill -"$sig" $pid; wait $pid; rc=$?; t1=$(now)
  set -e
  latency=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
  echo "cancel latency $name: $latency s (SIG$sig)"
  [ $rc = 130 ] || { cat "$T/err" >&2; fail "$name: exit $rc after SIG$sig, expected 130"; }
  grep -Eqi "cancelled|interrupted" "$T/err" || { cat "$T/err" >&2; fail "$name: no 'cancelled' message"; }
  python3 -c "import sys; sys.exit(0 if $latency <= $LIMIT else 1)" || fail "$name took $latency s to stop (limit $LIMIT s)"
}
points() { a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

start_redis src
# 250 values of 1 MB of random text: the RDB takes seconds to stream, store and verify.
python3 - <<'PY' | redis-cli -p "$src_PORT" --pipe > /dev/null
import base64, os, sys
for i in range(250):
    v = base64.b64encode(os.urandom(750000)).decode()
    sys.stdout.write("*3\r\n$3\r\nSET\r\n$%d\r\nbig:%d\r\n$%d\r\n%s\r\n" % (len("big:%d" % i), i, len(v), v))
PY
init_repo "$REPO" --pack-size 4
mb() { du -sm "$REPO" | cut -f1; }
base=$(mb)

step "redis backup: SIGINT while the RDB streams in; no recovery point"
cancel_run "redis backup" INT '[ "$(mb)" -gt $((base + 20)) ]' -- \
  "$ARCA" redis backup --repo "$REPO" --url "$src_URL" --no-progress
[ "$(points)" = 0 ] || fail "redis backup: a recovery point was published"
[ -z "$(find "$REPO/tmp" -type f 2>/dev/null | head -1)" ] || fail "redis backup: staging files left"
a check --repo "$REPO" -q
a redis backup --repo "$REPO" --url "$src_URL" -q
[ "$(points)" = 1 ] || fail "the redis backup after the cancel published no point"

step "redis verify: SIGTERM; the scratch server is stopped and its directory removed"
mkdir -p "$T/scratch"
cancel_run "redis verify" TERM 'compgen -G "$T/scratch/arca-redis-verify-*/dump.rdb" > /dev/null' -- \
  "$ARCA" redis verify latest --repo "$REPO" --scratch "$T/scratch" --no-progress
[ -z "$(ls -A "$T/scratch")" ] || { ls -la "$T/scratch"/* >&2; fail "redis verify: scratch directory left"; }
! pgrep -f "redis-server.*$T/scratch" > /dev/null || fail "redis verify: the scratch server still runs"
a redis verify latest --repo "$REPO" --scratch "$T/scratch" -q

echo PASS
