#!/usr/bin/env bash
# Kafka failures, each with a clear message and a documented exit code, nothing lost:
# unreachable brokers, bad options, no matching topic, a broker down for a whole one-shot run
# (partial recovery point, exit 3; the next run completes it with no duplicate), a damaged
# segment (verify names it), a restore of a topic the recovery point lacks.
# Not covered here because librdkafka's mock cluster cannot do it: a topic deleted mid-archive
# (the mock has no DeleteTopics), topic configuration (no DescribeConfigs: recorded as unknown).
source "$(dirname "$0")/lib_kafka.sh"
init_repo

step "unreachable brokers, bad options"
FREE=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_exit 10 a kafka backup --repo "$REPO" --brokers "127.0.0.1:$FREE" --kafka-timeout 2000
err_contains "cannot read the metadata of the Kafka cluster at 127.0.0.1:$FREE"
err_contains "are the brokers running"
# A time whose seconds overflow int64 milliseconds: a usage error, not undefined behaviour.
expect_exit 2 a kafka restore latest --repo "$REPO" --brokers "127.0.0.1:$FREE" --from-time '2026-12-01T10:00:1e300Z'
err_contains "years 1 to 9999"
start_mock src -t orders:4:3
expect_exit 2 a kafka backup --repo "$REPO" --brokers "$src_BS" --topics '(unclosed'
err_contains "bad regular expression"
expect_exit 2 a kafka backup --repo "$REPO" --brokers "$src_BS" -X no.such.setting=1
err_contains "no.such.setting"
expect_exit 10 a kafka backup --repo "$REPO" --brokers "$src_BS" --topics 'nothing-.*'
err_contains "no topic on the cluster"

step "a broker down for a whole one-shot run: partial recovery point, then completed without duplicates"
KT produce "$src_BS" orders 4000
broker_down src   # broker 1 leads partition 0
expect_exit 3 a kafka backup --repo "$REPO" --brokers "$src_BS" --topics orders --name o --stall-timeout 2 \
  --kafka-timeout 2000 --admin-timeout 300 --no-progress
err_contains "no progress for 2 s"
partial=$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["metadata"]["records"]["value"])')
[ "$partial" -lt 4000 ] || fail "with a broker down the run still archived everything?"
broker_up src
a kafka backup --repo "$REPO" --brokers "$src_BS" --topics orders --name o --admin-timeout 300 --json --no-progress > "$T/b.json"
[ "$(json_field "$T/b.json" "['metadata']['records']['value']")" = 4000 ] || fail "after the broker came back the archive does not hold 4000 records"
[ "$(json_field "$T/b.json" "['records_this_run']")" = $((4000 - partial)) ] || fail "the second run archived records twice"
a kafka verify --repo "$REPO" -q

step "restore of a topic the recovery point does not hold"
expect_exit 10 a kafka restore latest --repo "$REPO" --brokers "$src_BS" --topic nosuch
err_contains "has no archive of topic 'nosuch'"

step "a damaged segment is detected and named"
pack=$(find "$REPO/data" -type f | head -1)
flip_byte "$pack" 2000
set +e
a kafka verify latest --repo "$REPO" > "$T/v.txt" 2>&1
rc=$?
set -e
[ "$rc" = 12 ] || { cat "$T/v.txt"; fail "verify of a damaged archive exited $rc, not 12"; }
grep -q "topics/orders/" "$T/v.txt" || { cat "$T/v.txt"; fail "verify did not name the damaged segment"; }
echo PASS
