#!/usr/bin/env bash
# Copies to an S3 replica through a hostile network (tests/servers/fault_proxy.py): every third
# request dropped, reset, answered 500/503/429 or truncated — the copy completes and the replica
# checks and restores byte for byte; then a network partition: the copy fails with a clear error
# and leaves a replica that checks, `copy status` shows the lag, and once the partition heals the
# next copy catches up with every point exactly once.
source "$(dirname "$0")/lib.sh"
load_s3_env
trap 'rc=$?; kill "$PROXY" 2>/dev/null; (exit $rc); cleanup' EXIT
/usr/bin/python3 "$(dirname "$0")/../servers/fault_proxy.py" --upstream "${ARCA_TEST_S3_ENDPOINT#http://}" \
  --port-file "$T/port" --every 3 --faults drop,500,truncate,503,reset,429 > "$T/faults.log" 2>&1 &
PROXY=$!
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
DR=s3:http://127.0.0.1:$(cat "$T/port")/arca-e2e/$(basename "$T")-dr
O=(--to-option s3.stall-timeout=1 --to-option s3.retry-base=0.05 --to-option s3.retries=15)
PRIMARY=$T/primary
SRC=$T/src
mkdir -p "$SRC"
for i in 1 2 3; do head -c 1500000 /dev/urandom > "$SRC/f$i"; done
init_repo "$PRIMARY"
a backup --repo "$PRIMARY" "$SRC" -q
points() { a snapshots --repo "$DR" -o s3.retries=15 -o s3.retry-base=0.05 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

step "init --like and copy through the faults: complete, checked, restored"
a init --repo "$DR" -o s3.retries=15 -o s3.retry-base=0.05 --like "$PRIMARY" --create-bucket \
  --kdf-memory 8192 --kdf-time 1 -q
a copy --repo "$PRIMARY" --to "$DR" "${O[@]}" -q
a check --repo "$DR" -o s3.retries=15 -o s3.retry-base=0.05 --read-data -q
a restore --repo "$DR" -o s3.retries=15 -o s3.retry-base=0.05 latest --target "$T/out" -q
for i in 1 2 3; do cmp "$SRC/f$i" "$T/out/src/f$i"; done
[ "$(grep -c '^fault ' "$T/faults.log")" -ge 3 ] || fail "the proxy injected no faults"

step "a partition: the copy fails clearly, the replica still checks, the lag shows"
head -c 1500000 /dev/urandom > "$SRC/f4"
a backup --repo "$PRIMARY" "$SRC" -q
kill -USR1 "$PROXY"
# The proxy accepts and resets: a network fault with the server reached (exit 1; a server that
# cannot be reached at all is exit 10), naming the endpoint.
expect_exit 1 a copy --repo "$PRIMARY" --to "$DR" --to-option s3.retries=1 --to-option s3.retry-base=0.05 -q
err_contains "127.0.0.1:$(cat "$T/port")"
err_contains "gave up after"
a copy status --repo "$PRIMARY" --to "$DR" --to-option s3.retries=1 --json > "$T/lag.json" 2>/dev/null &&
  fail "copy status answered through the partition"
kill -USR2 "$PROXY"
a check --repo "$DR" -o s3.retries=15 -o s3.retry-base=0.05 --read-data -q
a copy status --repo "$PRIMARY" --to "$DR" "${O[@]}" --json > "$T/lag.json"
[ "$(json_field "$T/lag.json" "['pending']['points']")" = 1 ] || { cat "$T/lag.json"; fail "the point is not pending"; }
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["max_lag_s"] > 0, j' "$T/lag.json"

step "healed: the next copy catches up, every point once"
a copy --repo "$PRIMARY" --to "$DR" "${O[@]}" -q
[ "$(points)" = 2 ] || fail "the replica holds $(points) points, not 2"
a copy status --repo "$PRIMARY" --to "$DR" "${O[@]}" --json > "$T/lag.json"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["max_lag_s"] == 0 and j["pending"]["points"] == 0, j' \
  "$T/lag.json" || fail "the lag is not 0 after catching up"
a check --repo "$DR" -o s3.retries=15 -o s3.retry-base=0.05 --read-data -q
rm -rf "$T/out"
a restore --repo "$DR" -o s3.retries=15 -o s3.retry-base=0.05 latest --target "$T/out" -q
for i in 1 2 3 4; do cmp "$SRC/f$i" "$T/out/src/f$i"; done
echo PASS
