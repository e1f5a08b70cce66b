#!/usr/bin/env bash
# `arca drill run` with a Redis component (a real redis-server), a Kafka component (librdkafka's
# mock cluster) and a file tree (issue 21): without dependencies they run in parallel (their
# phases overlap in the JSON report), every validator passes (min-keys, min-records, the files'
# checks), Redis's RPO is the incident minus the recovery point's time and Kafka's the incident
# minus the newest record's own timestamp; then a depends-on chain whose first component fails
# (a file its validator names is missing): the dependent one is not run and says why (exit 12),
# while a dependent of a passing component starts only after it ended. Kafka is replayed: into a
# scratch cluster the drill starts, and into an explicit cluster under a topic prefix, with a
# consumer group's offsets translated and read back; too few records or a group the archive lacks
# fail (exit 12) naming the check; a target without a prefix is refused before anything is restored.
source "$(dirname "$0")/lib_kafka.sh"

# From lib_redis.sh (which sources lib.sh again, with a new $T): servers in $T, stopped on exit.
SERVERS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../servers" && pwd)
FILL=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/redis_fill.py
REDIS_DIRS=()
drill_cleanup() {
  local rc=$?
  set +e
  for d in "${REDIS_DIRS[@]}"; do "$SERVERS/redis.sh" stop "$d" || true; done
  (exit $rc); kafka_cleanup
}
trap drill_cleanup EXIT
start_redis() {  # start_redis NAME: a server in $T/NAME; sets NAME_PORT and NAME_URL
  local name=$1; shift
  "$SERVERS/redis.sh" start "$T/$name" "$@"
  REDIS_DIRS+=("$T/$name")
  source "$T/$name/env"
  printf -v "${name}_PORT" %s "$REDIS_PORT"
  printf -v "${name}_URL" %s "$REDIS_URL"
}
fill() { python3 "$FILL" "$2" "$3" | redis-cli -p "$1" --pipe >/dev/null; }  # fill PORT N PREFIX

D() { a drill "$@" --repo "$REPO"; }
scratch_left() { ls -d /tmp/arca-drill-e2e-rk-* /tmp/arca-drill-e2e-chain-* 2>/dev/null || true; }

RECORDS=3000
start_redis cache
fill "$cache_PORT" 2000 static
start_mock kafka -t orders:5:1   # more than the mock cluster's default of 4 for a topic it creates itself
init_repo
KT produce "$kafka_BS" orders "$RECORDS"
KT commit "$kafka_BS" g1 orders 0=100 1=250 2=0
# kafka_tool gives record n the CreateTime 1700000000000 + 10 n ms: the newest is known exactly.
NEWEST_RECORD=$(python3 -c "print((1700000000000 + ($RECORDS - 1) * 10) / 1000)")
mkdir -p "$T/etc/app"; echo "listen=8080" > "$T/etc/app/app.conf"; head -c 20000 /dev/urandom > "$T/etc/app/blob"

step "backups: Redis, Kafka, a file tree"
a redis backup --repo "$REPO" --url "$cache_URL" --json --no-progress > "$T/redis.json"
a kafka backup --repo "$REPO" --brokers "$kafka_BS" --topics orders --group g1 --name shop \
  --admin-timeout 500 --json --no-progress > "$T/kafka.json"
[ "$(json_field "$T/kafka.json" "['records_this_run']")" = "$RECORDS" ] || fail "the archive does not hold $RECORDS records"
a backup --repo "$REPO" "$T/etc/app" -q
REDIS_SOURCE=$(json_field "$T/redis.json" "['source']['name']")
REDIS_TIME=$(json_field "$T/redis.json" "['time']")

step "one drill, three components without dependencies: run in parallel, all validated"
cat > "$T/rk.yaml" <<YAML
drill: e2e-rk
components:
  cache:
    kind: redis
    source: $REDIS_SOURCE
    objectives: {rto: 5m, rpo: 1h}
    validate: {min-keys: 2000, samples: 100}
  events:
    kind: kafka
    source: shop
    objectives: {rto: 30m}
    validate: {min-records: $RECORDS}
  app-config:
    kind: files
    paths: [$T/etc/app]
    validate:
      files: [app.conf, blob]
      commands:
        - {name: listens on 8080, run: [grep, -c, listen=8080, "{path}/app.conf"], expect-output: "1"}
YAML
D run "$T/rk.yaml" --report "$T/rk.json" --markdown "$T/rk.md" > "$T/rk.out" \
  || { cat "$T/rk.out" "$T/rk.md" 2>/dev/null; fail "the drill failed"; }
python3 - "$T/rk.json" "$REDIS_TIME" "$NEWEST_RECORD" "$RECORDS" <<'PY'
import json, sys, datetime
j = json.load(open(sys.argv[1]))
redis_time = datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00")).timestamp()
newest_record, records = float(sys.argv[3]), int(sys.argv[4])
assert j["passed"] and j["exit_code"] == 0 and not j["incident_given"], j
incident = j["incident_unix"]
assert abs(incident - j["started_unix"]) < 1e-6, "without incident-time the incident is the drill's start"
c = {x["name"]: x for x in j["components"]}
assert set(c) == {"cache", "events", "app-config"}, c.keys()
for x in c.values():
    assert x["status"] == "passed" and x["validated"] and x["error"] is None, x
    assert all(k["status"] == "passed" for k in x["checks"]), x["checks"]
    assert all(p["end_s"] >= p["start_s"] >= 0 for p in x["phases"]), x["phases"]
    assert abs(x["rto_s"] - x["phases"][-1]["end_s"]) < 1e-6, x
cache, events, files = c["cache"], c["events"], c["app-config"]
checks = lambda x: {k["name"]: k for k in x["checks"]}
assert "at least 2000 keys" in checks(cache), checks(cache)
assert "at least %d records" % records in checks(events), checks(events)
assert checks(events)["at least %d records" % records]["detail"] == "%d records replayed" % records
# Replayed into the drill's scratch cluster: counts and checksums per partition, the group's offsets.
for p in range(5):
    assert checks(events)["records orders/%d" % p]["status"] == "passed", checks(events)
    assert "as archived" in checks(events)["checksum orders/%d" % p]["detail"], checks(events)
assert sum(int(checks(events)["records orders/%d" % p]["detail"].split()[0]) for p in range(5)) == records
assert checks(events)["group g1 offsets"]["status"] == "passed", checks(events)
assert {"restore complete", "manifest", "file app.conf", "file blob", "listens on 8080"} <= set(checks(files))
assert [p["name"] for p in cache["phases"]] == ["locate", "restore", "start", "validate"], cache["phases"]
assert [p["name"] for p in events["phases"]] == ["locate", "restore", "validate"], events["phases"]
# Parallel: every component started before any of them ended.
starts = [x["phases"][0]["start_s"] for x in c.values()]
ends = [x["phases"][-1]["end_s"] for x in c.values()]
assert max(starts) < min(ends), ("the components ran one after another", starts, ends)
# RPO: Redis, the incident minus the recovery point's time; Kafka, minus the newest record's own time.
assert abs(cache["rpo_s"] - (incident - redis_time)) < 0.001, (cache["rpo_s"], incident - redis_time)
assert cache["rpo_ok"] is True and cache["rto_ok"] is True, cache
assert abs(events["newest_data_unix"] - newest_record) < 0.001, (events["newest_data_unix"], newest_record)
assert abs(events["rpo_s"] - (incident - newest_record)) < 0.001, (events["rpo_s"], incident - newest_record)
assert events["rto_ok"] is True and events["rpo_ok"] is None, events  # no RPO objective: not judged
assert files["rpo_s"] > 0 and files["rto_ok"] is None, files
for x in c.values():
    print("  %s: RTO %.2f s, RPO %.3f s, phases %s" % (x["name"], x["rto_s"], x["rpo_s"],
          ", ".join("%s %.2f-%.2f" % (p["name"], p["start_s"], p["end_s"]) for p in x["phases"])))
PY
grep -q "^# Drill e2e-rk: PASSED" "$T/rk.md" || { cat "$T/rk.md"; fail "markdown report"; }
[ -z "$(scratch_left)" ] || fail "the drill left scratch directories: $(scratch_left)"
! pgrep -f -- "--dir /tmp/arca-drill-e2e-rk-" >/dev/null || fail "the drill's scratch redis-server still runs"

step "Kafka into an explicit cluster with a topic prefix: records as archived, the group's offsets translated"
# The mock cluster creates a topic that is only looked up with 4 partitions (a real broker honours
# the restore's allow.auto.create.topics=false): the targets exist with the archive's 5.
start_mock dst -t drill-orders:5:1 -t bad-orders:5:1
cat > "$T/kt.yaml" <<YAML
drill: e2e-kt
components:
  events:
    kind: kafka
    source: shop
    groups: [g1]
    target: {brokers: [$dst_BS], topic-prefix: drill-}
    validate: {min-records: $RECORDS}
YAML
D run "$T/kt.yaml" --report "$T/kt.json" > "$T/kt.out" || { cat "$T/kt.out"; fail "the Kafka drill into a target failed"; }
records "$kafka_BS" orders > "$T/src.txt"
records "$dst_BS" drill-orders > "$T/dst.txt"
[ "$(wc -l < "$T/src.txt")" = "$RECORDS" ] || fail "the source topic does not hold $RECORDS records"
cmp -s "$T/src.txt" "$T/dst.txt" || fail "the records replayed to drill-orders differ from the source's"
# Into empty topics, offsets stay: the translated group (drill-g1) is where g1 was.
KT committed "$dst_BS" drill-g1 drill-orders 3 > "$T/committed"
[ "$(tr '\n' ' ' < "$T/committed")" = "0 100 1 250 2 0 " ] || { cat "$T/committed"; fail "drill-g1 is not at g1's translated offsets"; }
python3 - "$T/kt.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["passed"] and j["exit_code"] == 0, j
ev = j["components"][0]
k = {c["name"]: c for c in ev["checks"]}
assert "named drill-<topic>" in k["target"]["detail"], k["target"]
assert k["group g1 offsets"]["status"] == "passed" and "drill-g1" in k["group g1 offsets"]["detail"], k
assert all(k["checksum orders/%d" % p]["status"] == "passed" for p in range(5)), k
PY

step "Kafka: too few records and a group the archive lacks fail, naming the checks (exit 12)"
cat > "$T/kbad.yaml" <<YAML
drill: e2e-kbad
components:
  events:
    kind: kafka
    source: shop
    groups: [g1, nosuch]
    target: {brokers: [$dst_BS], topic-prefix: bad-}
    validate: {min-records: $((RECORDS + 1))}
YAML
expect_exit 12 D run "$T/kbad.yaml" --no-record
grep -q "FAIL\] at least $((RECORDS + 1)) records: $RECORDS records replayed" "$T/.stdout" || { cat "$T/.stdout"; fail "the record count check is not named"; }
grep -q "FAIL\] group nosuch offsets: the recovery point records no committed offsets of group nosuch" "$T/.stdout" \
  || { cat "$T/.stdout"; fail "the missing group is not named"; }
! grep -q "FAIL\] group g1" "$T/.stdout" || { cat "$T/.stdout"; fail "the recorded group failed"; }

step "Kafka: a target without topic-prefix and without production: true is refused before anything is restored"
sed -e 's/drill: e2e-kt/drill: e2e-kprod/' -e 's/, topic-prefix: drill-//' "$T/kt.yaml" > "$T/kprod.yaml"
expect_exit 2 a drill check "$T/kprod.yaml"
err_contains "components.events.target: no topic-prefix"
err_contains "production: true"
expect_exit 2 D run "$T/kprod.yaml"
err_contains "nothing was restored"
KT committed "$dst_BS" g1 orders 3 > "$T/committed"
[ "$(tr '\n' ' ' < "$T/committed")" = "0 -1001 1 -1001 2 -1001 " ] || { cat "$T/committed"; fail "the refused drill committed offsets"; }

step "Redis into an explicit empty server; a server holding keys is refused without production: true (exit 12)"
start_redis tgt
cat > "$T/rt.yaml" <<YAML
drill: e2e-rt
components:
  cache:
    kind: redis
    source: $REDIS_SOURCE
    target: {url: "$tgt_URL/0"}
    validate: {min-keys: 2000}
YAML
D run "$T/rt.yaml" --no-record > "$T/rt.out" || { cat "$T/rt.out"; fail "the Redis drill into a target failed"; }
SOURCE_KEYS=$(redis-cli -p "$cache_PORT" dbsize)
[ "$(redis-cli -p "$tgt_PORT" dbsize)" = "$SOURCE_KEYS" ] || { cat "$T/rt.out"; fail "the target does not hold the $SOURCE_KEYS keys"; }
sed -e "s|$tgt_URL/0|$cache_URL|" "$T/rt.yaml" > "$T/rbusy.yaml"
redis-cli -p "$cache_PORT" set drill-sentinel untouched > /dev/null
expect_exit 12 D run "$T/rbusy.yaml" --no-record
grep -q "error: Redis target redis://127.0.0.1:$cache_PORT: its databases hold $((SOURCE_KEYS + 1)) keys, so it may be in use" "$T/.stdout" \
  || { cat "$T/.stdout"; fail "the busy Redis target was not refused with its reason"; }
[ "$(redis-cli -p "$cache_PORT" dbsize)" = $((SOURCE_KEYS + 1)) ] || fail "the refused drill wrote into the busy server"

step "a depends-on chain whose first component fails: the dependent one is not run (exit 12)"
cat > "$T/chain.yaml" <<YAML
drill: e2e-chain
components:
  broken-config:
    kind: files
    paths: [$T/etc/app]
    validate: {files: [missing.conf]}
  cache:
    kind: redis
    source: $REDIS_SOURCE
    depends-on: [broken-config]
  good-config:
    kind: files
    paths: [$T/etc/app]
  events:
    kind: kafka
    source: shop
    depends-on: [good-config]
YAML
expect_exit 12 D run "$T/chain.yaml" --report "$T/chain.json"
grep -q "FAIL\] file missing.conf: missing from the restored tree" "$T/.stdout" || { cat "$T/.stdout"; fail "the failed check is not named"; }
grep -q "not run: it depends on broken-config" "$T/.stdout" || { cat "$T/.stdout"; fail "the dependent component does not say why it was not run"; }
python3 - "$T/chain.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert not j["passed"] and j["exit_code"] == 12, j
c = {x["name"]: x for x in j["components"]}
broken, cache, good, events = c["broken-config"], c["cache"], c["good-config"], c["events"]
assert broken["status"] == "FAILED" and broken["error"] is None, broken
assert {k["name"]: k["status"] for k in broken["checks"]}["file missing.conf"] == "failed", broken["checks"]
assert cache["status"] == "FAILED" and cache["snapshot"] is None, cache
assert cache["error"] == "not run: it depends on broken-config, which did not restore and validate", cache["error"]
assert cache["phases"] == [] and cache["checks"] == [], cache
assert good["status"] == "passed" and events["status"] == "passed", (good, events)
# A dependent starts once its dependency ended.
assert events["phases"][0]["start_s"] >= good["phases"][-1]["end_s"], (events["phases"], good["phases"])
PY
[ -z "$(scratch_left)" ] || fail "the chain drill left scratch directories: $(scratch_left)"

step "both drills are recorded"
D list > "$T/list.out"
grep -q "e2e-rk  PASSED  3 components" "$T/list.out" || { cat "$T/list.out"; fail "drill list lacks the passed drill"; }
grep -q "e2e-chain  FAILED  4 components" "$T/list.out" || { cat "$T/list.out"; fail "drill list lacks the failed drill"; }
! grep -q "e2e-kprod" "$T/list.out" || fail "a refused drill was recorded"
echo "PASS"
