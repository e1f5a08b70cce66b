#!/usr/bin/env bash
# The S3 server dies in the middle of a backup: the backup fails cleanly with a clear error, the
# repository passes check, and a re-run completes without uploading again what was stored.
# Uses a private Swift (the shared one must not die under other tests).
source "$(dirname "$0")/lib.sh"
SERVERS=$(cd "$(dirname "$0")/../servers" && pwd)
"$SERVERS/swift.sh" start "$T/swift" > /dev/null
trap '"$SERVERS/swift.sh" stop "$T/swift"; cleanup' EXIT
ARCA_TEST_S3_ENV=$T/swift/env load_s3_env
REPO=s3:$ARCA_TEST_S3_ENDPOINT/killed/repo
O=(-o s3.retries=2 -o s3.retry-base=0.1 -o s3.connections=2)

SRC=$T/src
mkdir -p "$SRC"
for i in $(seq 1 40); do head -c 2000000 /dev/urandom > "$SRC/f$i.bin"; done
init_repo "$REPO" --pack-size 1 "${O[@]}"

step "kill the server once some packs are stored"
stored_objects() { find "$T/swift/srv" -name '*.data' | wc -l; }
base=$(stored_objects)
set +e
a backup --repo "$REPO" "${O[@]}" "$SRC" --json > "$T/b1.json" 2> "$T/err" &
pid=$!
for _ in $(seq 1 400); do [ "$(stored_objects)" -ge $((base + 30)) ] && break; sleep 0.02; done
kill -9 "$(cat "$T/swift/run/proxy.pid")"
wait "$pid"; rc=$?
set -e
[ "$rc" = 10 ] || { cat "$T/err" >&2; fail "backup should fail with exit 10 (unreachable) when the server dies, got $rc"; }
err_contains "gave up after 3 attempts"
err_contains "$ARCA_TEST_S3_ENDPOINT"
a snapshots --repo "$REPO" "${O[@]}" --json > /dev/null 2>&1 && fail "the server is still answering"

step "server back: check passes, re-run reuses what was stored"
"$SERVERS/swift.sh" restart-proxy "$T/swift"
a check --repo "$REPO" "${O[@]}" -q
a backup --repo "$REPO" "${O[@]}" "$SRC" --json > "$T/b2.json"
added=$(json_field "$T/b2.json" "['stats']['bytes_added']")
total=$((40 * 2000000))
echo "  re-run added $added of $total bytes"
[ "$added" -lt $((total * 85 / 100)) ] || fail "the re-run uploaded nearly everything again ($added of $total)"
a restore --repo "$REPO" "${O[@]}" latest --target "$T/out" -q
diff -r "$SRC" "$T/out/src" || fail "restore after the interrupted backup differs"
a check --repo "$REPO" "${O[@]}" --read-data -q
echo PASS
