#!/usr/bin/env bash
# Redis restore onto a full disk: exit 13 ("disk full", as every other restore), a message that
# says to free space, no server started; the same restore completes once there is room.
source "$(dirname "$0")/lib_redis.sh"

start_redis src
fill "$src_PORT" 30000 big
init_repo
a redis backup --repo "$REPO" --url "$src_URL" -q --no-progress
mkdir -p "$T/small"
mount -t tmpfs -o size=256k tmpfs "$T/small" || fail "cannot mount a small tmpfs (the test needs root)"

step "restore --to a full filesystem: exit 13, nothing started"
P2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_exit 13 a redis restore latest --repo "$REPO" --to "$T/small/out" --start --port "$P2" --no-progress
err_contains "free space"
redis-cli -p "$P2" PING >/dev/null 2>&1 && fail "a server was started on a partial restore"
[ ! -e "$T/small/out/dump.rdb" ] || fail "a partial dump.rdb was left under its real name"

step "with --json: the error is JSON with exit code 13"
expect_exit 13 a redis restore latest --repo "$REPO" --to "$T/small/out2" --json --no-progress

step "with room: the same restore completes"
umount "$T/small"
a redis restore latest --repo "$REPO" --to "$T/small/out" -q --no-progress
[ -s "$T/small/out/dump.rdb" ] || fail "no dump.rdb restored"
echo PASS
