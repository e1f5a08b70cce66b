#!/usr/bin/env bash
# Redis: SIGINT/SIGTERM cancel a backup (while the server streams its RDB) and a verify (while it
# restores the RDB or loads the scratch server): exit 130 within the limit, no recovery point
# published, the scratch server stopped and its directory removed, and the next run works.
source "$(dirname "$0")/lib_redis.sh"

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
interrupt_and_time "redis backup" INT '[ "$(mb)" -gt $((base + 20)) ]' -- \
  "$ARCA" redis backup --repo "$REPO" --url "$src_URL" --no-progress
[ "$(points)" = 0 ] || fail "redis backup: a recovery point was published"
[ -z "$(find "$REPO/tmp" -type f 2>/dev/null | head -1)" ] || fail "redis backup: staging files left"
a check --repo "$REPO" -q
a redis backup --repo "$REPO" --url "$src_URL" -q
[ "$(points)" = 1 ] || fail "the redis backup after the cancel published no point"

step "redis verify: SIGTERM; the scratch server is stopped and its directory removed"
mkdir -p "$T/scratch"
interrupt_and_time "redis verify" TERM 'compgen -G "$T/scratch/arca-redis-verify-*/dump.rdb" > /dev/null' -- \
  "$ARCA" redis verify latest --repo "$REPO" --scratch "$T/scratch" --no-progress
[ -z "$(ls -A "$T/scratch")" ] || { ls -la "$T/scratch"/* >&2; fail "redis verify: scratch directory left"; }
! pgrep -f "redis-server.*$T/scratch" > /dev/null || fail "redis verify: the scratch server still runs"
a redis verify latest --repo "$REPO" --scratch "$T/scratch" -q

echo PASS
