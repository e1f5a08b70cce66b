#!/usr/bin/env bash
# `redis restore --to` gives dump.rdb the recovery point's time (not 1970), refuses to overwrite
# an existing dump.rdb without --force, and accepts --target as the same option as --to.
source "$(dirname "$0")/lib_redis.sh"

start_redis src
fill "$src_PORT" 500 static
init_repo
a redis backup --repo "$REPO" --url "$src_URL" -q --no-progress

step "dump.rdb has the point's time"
a redis restore latest --repo "$REPO" --to "$T/r1" -q --no-progress
when=$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys,datetime; t=json.load(sys.stdin)[-1]["time"]; print(int(datetime.datetime.fromisoformat(t.replace("Z","+00:00")).timestamp()))')
mtime=$(stat -c %Y "$T/r1/dump.rdb")
[ $((mtime - when)) -ge -1 ] && [ $((mtime - when)) -le 1 ] || fail "dump.rdb mtime $mtime, the point's time is $when"

step "an existing dump.rdb is not overwritten without --force"
echo "live data" > "$T/r1/dump.rdb"
expect_exit 15 a redis restore latest --repo "$REPO" --to "$T/r1" --no-progress
err_contains "dump.rdb exists"
err_contains "--force"
[ "$(cat "$T/r1/dump.rdb")" = "live data" ] || fail "existing dump.rdb was overwritten"
a redis restore latest --repo "$REPO" --target "$T/r1" --force -q --no-progress
redis-check-rdb "$T/r1/dump.rdb" > /dev/null || fail "--force did not restore dump.rdb"

step "restore accepts --to like pg and redis restore"
a backup --repo "$REPO" "$T/r1" -q
a restore --repo "$REPO" latest --to "$T/r2" -q
cmp "$T/r1/dump.rdb" "$T/r2/r1/dump.rdb"
echo PASS
