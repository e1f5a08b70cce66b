#!/usr/bin/env bash
# Redis and Kafka recovery points restore from a replica alone (issue 22: "every restore command
# works against a replica alone, the primary deleted"): backups into the primary, a replica made
# by init --like with its own password, one copy, the primary repository deleted; a Redis restore
# into an empty server holds identical keys, a Kafka restore into another cluster every record.
source "$(dirname "$0")/lib_redis.sh"
source "$(dirname "$0")/lib_kafka.sh"
trap 'rc=$?; set +e; for p in "${MOCK_PIDS[@]}"; do kill "$p" 2>/dev/null; done; (exit $rc); redis_cleanup' EXIT
DR=$T/dr
echo "dr-password" > "$T/dr.pw" && chmod 600 "$T/dr.pw"
R() { a "$@" --repo "$DR" --password-file "$T/dr.pw"; }

step "backups of Redis and Kafka into the primary"
start_redis src
fill "$src_PORT" 5000 static
start_mock src -t orders:4:1
start_mock dst -t orders:4:1
init_repo
a redis backup --repo "$REPO" --url "$src_URL" -q --no-progress
KT produce "$src_BS" orders 3000
a kafka backup --repo "$REPO" --brokers "$src_BS" --topics orders --name shop --admin-timeout 500 -q --no-progress

step "a replica with its own password; one copy; the primary deleted"
echo "$ARCA_PASSWORD" > "$T/pw" && chmod 600 "$T/pw"
a init --repo "$DR" --like "$REPO" --password-file "$T/dr.pw" --like-password-file "$T/pw" --kdf-memory 8192 --kdf-time 1 -q
a copy --repo "$REPO" --to "$DR" --json --no-progress > "$T/copy.json"
[ "$(json_field "$T/copy.json" "['copied'].__len__()")" = 2 ] || { cat "$T/copy.json"; fail "the copy did not copy both points"; }
rm -rf "$REPO"
unset ARCA_PASSWORD

step "Redis from the replica: identical keys"
start_redis empty
R redis restore latest --into "$empty_URL" -q
same_keys "$src_PORT" "$empty_PORT" 0 '*'

step "Kafka from the replica: every record"
R kafka restore latest --brokers "$dst_BS" --topic orders --json --no-progress > "$T/r.json"
[ "$(json_field "$T/r.json" "['records']")" = 3000 ] || fail "the restore replayed $(json_field "$T/r.json" "['records']") records"
records "$src_BS" orders > "$T/src.txt"
records "$dst_BS" orders > "$T/dst.txt"
diff "$T/src.txt" "$T/dst.txt" > "$T/diff" || { head "$T/diff"; fail "records restored from the replica differ"; }
echo PASS
