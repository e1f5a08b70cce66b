#!/usr/bin/env bash
# arca server with every kind of source on the local real servers: files (every 3 s, keep-last 2),
# PostgreSQL (one base backup + continuous WAL over wal-stream, a verify), Redis (every 3 s and a
# verify every 3 s) and Kafka (every 3 s). Asserts the jobs' outcomes, retention, the recorded
# verifications, /metrics and /api/v1/status, a clean SIGTERM (exit 0, nothing left RUNNING, also
# after a restart), and that every source restores: files byte for byte, Redis key by key into a
# second server, Kafka record counts in a second cluster, and PostgreSQL from the server's base
# backup plus the streamed WAL, with rows written after the base backup.
# The server runs as root, as the PostgreSQL restore and verify do (they start PostgreSQL as its
# own user).
source "$(dirname "$0")/lib_pg.sh"
# The system Python when there is one, here and in the server scripts: a version manager's shim
# first on PATH costs up to a second a call, and this test polls.
if [ -x /usr/bin/python3 ]; then
  mkdir "$T/bin" && ln -s /usr/bin/python3 "$T/bin/python3" && PATH=$T/bin:$PATH
fi
source "$(dirname "$0")/lib_server.sh"
KAFKA_TOOL=${KAFKA_TOOL:-$(cd "$(dirname "$0")/../.." && pwd)/build/tests/kafka_tool}
KT() { "$KAFKA_TOOL" "$@"; }
step() { echo "--- [${SECONDS}s] $*"; }

REDIS_DIRS=()
MOCK_PIDS=()
all_cleanup() {
  local rc=$?
  set +e
  [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
  [ -n "${E2E_DEBUG_DIR:-}" ] && cp -a "$T" "$E2E_DEBUG_DIR" 2>/dev/null
  # By PID, without waiting: nothing of theirs is needed any more.
  for d in "${REDIS_DIRS[@]}"; do [ -f "$d/redis.pid" ] && kill -9 "$(cat "$d/redis.pid")" 2>/dev/null; done
  for p in "${MOCK_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  (exit $rc); pg_cleanup
}
trap all_cleanup EXIT

start_redis() {  # start_redis NAME: a server in $T/NAME; its port in NAME_PORT
  "$SERVERS/redis.sh" start "$T/$1"
  REDIS_DIRS+=("$T/$1")
  printf -v "${1}_PORT" %s "$(. "$T/$1/env"; echo "$REDIS_PORT")"
}
start_mock() {  # start_mock NAME -t topic:partitions:rf: a 3-broker mock cluster; bootstrap in NAME_BS
  local name=$1; shift
  "$KAFKA_TOOL" mock -b 3 -f "$T/$name.bs" "$@" 2> "$T/$name.log" &
  MOCK_PIDS+=("$!")
  disown "$!"   # stopped by PID in all_cleanup, without a "Killed" line
  for _ in $(seq 100); do [ -s "$T/$name.bs" ] && break; sleep 0.05; done
  [ -s "$T/$name.bs" ] || { cat "$T/$name.log" >&2; fail "mock cluster $name did not start"; }
  printf -v "${name}_BS" %s "$(cat "$T/$name.bs")"
}
# py EXPR FILE: evaluates a Python expression over the JSON in FILE (as j); prints the value.
py() { python3 -c "import json,sys; j=json.load(open(sys.argv[2])); print(eval(sys.argv[1]))" "$1" "$2"; }
metric() {  # metric NAME LABEL-REGEX: the value of the one series of NAME whose labels match
  grep -E "^$1\{[^}]*$2[^}]*\} " "$T/metrics" | awk '{print $2}'
}

step "sources: PostgreSQL, Redis, two Kafka mock clusters, a file tree"
"$SERVERS/postgres.sh" start "$T/pg" > "$T/pg-start.log" 2>&1 &   # initdb takes a while: meanwhile the rest
PG_STARTING=$!
start_redis cache
start_redis copy
start_mock src -t orders:4:3
start_mock dst -t orders:4:3
make_tree "$T/files"
rm "$T"/files/docs/deep/f{6..50}.txt   # the same variety in fewer entries: same_tree spawns per entry
python3 "$(dirname "$0")/redis_fill.py" 3000 static | redis-cli -p "$cache_PORT" --pipe >/dev/null
KT produce "$src_BS" orders 4000
init_repo
wait "$PG_STARTING" || { cat "$T/pg-start.log" >&2; fail "PostgreSQL did not start"; }
source "$T/pg/env"
q -c "CREATE TABLE marks (id int PRIMARY KEY, phase text)" -c "INSERT INTO marks SELECT g, 'before' FROM generate_series(1, 1000) g"

cat > "$T/server.yaml" <<EOF
server:
  listen: "127.0.0.1:$SERVER_PORT"
  catalog: $T/catalog.db
  max-jobs: 4
  shutdown-grace: 10s
repositories:
  main:
    location: $REPO
    password-file: $PW
sources:
  conf:
    kind: files
    repository: main
    paths: [$T/files]
    objectives: {rpo: 1m}
  db:
    kind: postgres
    repository: main
    conninfo: "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres"
    objectives: {rpo: 1m}
    wal-stream: {enabled: true, slot: arca_e2e, backoff-min: 1s, backoff-max: 2s}
  cache:
    kind: redis
    repository: main
    url: redis://127.0.0.1:$cache_PORT
    objectives: {rpo: 1m}
  events:
    kind: kafka
    repository: main
    brokers: ["$src_BS"]
    topics: "orders"
    objectives: {rpo: 1m}
plans:
  conf-backup:
    source: conf
    schedule: {every: 3s}
    retention: {keep-last: 2}
  # One base backup at the start (and never again in the test's time): every row written after
  # it can only come back through the streamed WAL.
  db-base:
    source: db
    schedule: {cron: "0 0 1 1 *"}
    run-on-create: true
  db-verify:
    kind: verify
    source: db
    schedule: {cron: "0 0 1 1 *"}
  cache-backup:
    source: cache
    schedule: {every: 3s}
  # Paused until the first Redis point exists, so that no run finds nothing to verify.
  cache-verify:
    kind: verify
    source: cache
    schedule: {every: 5s}
    paused: true
  events-backup:
    source: events
    schedule: {every: 3s}
EOF
a server check-config "$T/server.yaml" >/dev/null
make_token "$T/server.yaml"
start_server "$T/server.yaml"

# succeeded PLAN [N]: at least N (default 1) SUCCESS jobs of PLAN.
succeeded() {
  api "/api/v1/jobs?plan=$1&state=SUCCESS" > "$T/s.json" || return 1
  [ "$(py 'len(j["jobs"])' "$T/s.json")" -ge "${2:-1}" ]
}
# The API's job list: check its shape once, loudly.
api "/api/v1/jobs" > "$T/jobs0.json"
py 'j["jobs"]' "$T/jobs0.json" >/dev/null || fail "GET /api/v1/jobs has no 'jobs' list: $(cat "$T/jobs0.json")"

step "the base backup and a Redis point; then rows written after the base backup, Kafka records after the first archive"
wait_for 30 succeeded db-base
BASE_DONE=$(date +%s.%N)
q -c "INSERT INTO marks SELECT g, 'after' FROM generate_series(1001, 1500) g"
wait_for 20 succeeded cache-backup
a plans resume cache-verify >/dev/null
a plans run db-verify >/dev/null
wait_for 20 succeeded events-backup
KT produce "$src_BS" orders 1000 4000
KAFKA_MORE=$(date +%s)

step "runs: conf-backup 4+, cache-verify and db-verify passed, the stream has archived the later rows"
wait_for 30 succeeded conf-backup 4
wait_for 45 succeeded cache-verify   # long enough for the slow-verify check below to name the cause
wait_for 40 succeeded db-verify
# An events-backup that started after the extra records holds all 5000.
events_caught_up() {
  api "/api/v1/jobs?plan=events-backup&state=SUCCESS&limit=1" > "$T/e.json"
  python3 - "$T/e.json" "$KAFKA_MORE" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"]
sys.exit(0 if j and j[0]["started_at_unix"] > float(sys.argv[2]) else 1)
PY
}
wait_for 20 events_caught_up
stream_caught_up() {
  curl -fsS -H "Authorization: Bearer $(cat "$ARCA_TOKEN_FILE")" "$ARCA_SERVER/metrics" > "$T/metrics"
  local t; t=$(metric arca_stream_caught_up_timestamp_seconds 'source="db"')
  [ -n "$t" ] && python3 -c "import sys; sys.exit(0 if $t > $BASE_DONE + 0.5 else 1)"
}
q -c "SELECT pg_switch_wal()" >/dev/null
wait_for 20 stream_caught_up

step "jobs and plans over the CLI: every plan succeeded; no backup or stream job FAILED"
a jobs --json --limit 1000 > "$T/jobs.json"
python3 - "$T/jobs.json" <<'PY' || fail "job outcomes wrong (jobs in $T/jobs.json)"
import json, sys
jobs = json.load(open(sys.argv[1]))["jobs"]
by = {}
for x in jobs: by.setdefault(x["plan"], []).append(x)
for plan in ["conf-backup", "db-base", "db-verify", "cache-backup", "cache-verify", "events-backup"]:
    ok = [x for x in by.get(plan, []) if x["state"] == "SUCCESS"]
    assert ok, f"plan {plan}: no SUCCESS job: {[x['state'] for x in by.get(plan, [])]}"
bad = [(x["plan"], x["state"], x.get("reason")) for x in jobs if x["state"] in ("FAILED", "PARTIAL", "EXPIRED", "INTERRUPTED")]
assert not bad, f"jobs that did not succeed: {bad}"
assert len([x for x in by["db-base"]]) == 1, f"db-base ran {len(by['db-base'])} times"
# A verify restores into a scratch server and stops it: seconds here. A scratch server that ignores
# SIGTERM (a signal mask inherited from the server's threads) holds the job for its 30 s stop timeout.
slow = [(x["plan"], x["id"], round(x["finished_at_unix"] - x["started_at_unix"], 1)) for x in jobs
        if x["kind"] == "verify" and x["state"] == "SUCCESS" and x["finished_at_unix"] - x["started_at_unix"] > 20]
assert not slow, f"verify jobs that took over 20 s: {slow}"
streams = by.get("db.stream", [])
assert [x["state"] for x in streams] == ["RUNNING"], f"db.stream jobs: {[(x['state'], x.get('reason')) for x in streams]}"
PY
a plans --json > "$T/plans.json"
python3 - "$T/plans.json" <<'PY' || fail "plans listing wrong"
import json, sys
plans = {p["name"]: p for p in json.load(open(sys.argv[1]))["plans"]}
assert set(plans) == {"conf-backup", "db-base", "db-verify", "cache-backup", "cache-verify", "events-backup", "db.stream"}, sorted(plans)
assert plans["db.stream"]["kind"] == "stream", plans["db.stream"]
assert not plans["cache-verify"]["paused"], "cache-verify still paused after resume"
PY

step "retention keep-last 2: exactly 2 points of the files source after 4+ runs"
a snapshots --repo "$REPO" --password-file "$PW" --json > "$T/snaps.json"
python3 - "$T/snaps.json" "$T/files" <<'PY' || fail "retention of conf-backup not applied"
import json, sys
s = json.load(open(sys.argv[1]))
files = [x for x in s if x["source"]["kind"] == "files"]
assert len(files) == 2, f"{len(files)} files points: {[x['id'][:8] for x in files]}"
assert files[0]["paths"] == [sys.argv[2]], files[0]["paths"]
# Only the plan's own source: Redis has no retention and keeps every point.
assert len([x for x in s if x["source"]["name"] == "cache"]) >= 3, "retention removed points of another source"
PY
api "/api/v1/sources/conf/points" > "$T/conf-points.json"
python3 - "$T/conf-points.json" "$T/snaps.json" <<'PY' || fail "the catalog's points of conf are not the repository's: $(cat "$T/conf-points.json")"
import json, sys
cat = sorted(p["snapshot_id"] for p in json.load(open(sys.argv[1]))["points"])
repo = sorted(x["id"] for x in json.load(open(sys.argv[2])) if x["source"]["kind"] == "files")
assert cat == repo, (cat, repo)
PY

step "verifications recorded: redis-verify and pg-verify passed"
api "/api/v1/verifications" > "$T/verifs.json"
python3 - "$T/verifs.json" <<'PY' || fail "verifications wrong: $(cat "$T/verifs.json")"
import json, sys
v = json.load(open(sys.argv[1]))["verifications"]
for src, kind in [("cache", "redis-verify"), ("db", "pg-verify")]:
    mine = [x for x in v if x["source"] == src and x["kind"] == kind]
    assert mine and all(x["ok"] for x in mine), (src, kind, mine)
PY

step "metrics: runs per plan, live RPO per source, the stream up"
curl -fsS -H "Authorization: Bearer $(cat "$ARCA_TOKEN_FILE")" "$ARCA_SERVER/metrics" > "$T/metrics"
for plan in conf-backup db-base db-verify cache-backup cache-verify events-backup; do
  n=$(metric arca_job_runs_total "plan=\"$plan\".*outcome=\"success\"")
  [ -n "$n" ] && [ "${n%.*}" -gt 0 ] || fail "arca_job_runs_total{plan=$plan,outcome=success} is '$n'"
done
for src in conf db cache events; do
  r=$(metric arca_source_live_rpo_seconds "source=\"$src\"")
  [ -n "$r" ] || fail "no arca_source_live_rpo_seconds for $src"
  python3 -c "import sys; sys.exit(0 if 0 <= $r < 30 else 1)" || fail "live RPO of $src is $r s"
done
[ "$(metric arca_stream_up 'source="db"')" = 1 ] || fail "arca_stream_up{source=db} is not 1"

step "status: every component present, with a point and no problem state"
api "/api/v1/status" > "$T/status.json"
python3 - "$T/status.json" <<'PY' || fail "status wrong: $(cat "$T/status.json")"
import json, sys
j = json.load(open(sys.argv[1]))
comps = {c["source"]: c for c in j["components"]}
assert set(comps) == {"conf", "db", "cache", "events"}, sorted(comps)
for name, c in comps.items():
    assert c["newest_point"], (name, c)
    assert c["state"] == "ok", (name, c["state"], c)
    assert c["rpo_ok"] and c["live_rpo_s"] is not None and c["live_rpo_s"] < 30, (name, c)
for name in ("cache", "db"):
    v = comps[name]["last_verification"]
    assert v and v["ok"], (name, v)
assert comps["db"]["stream"] and comps["db"]["stream"]["connected"], comps["db"]["stream"]
PY

step "SIGTERM: exit 0, nothing left RUNNING in the catalog"
LAST_ID=$(api "/api/v1/jobs?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["id"])')
stop_server TERM
[ "$SERVER_RC" = 0 ] || { tail -20 "$T/server.log" >&2; fail "arca server exited $SERVER_RC after SIGTERM"; }
running=$(python3 -c "import sqlite3,sys; c=sqlite3.connect('file:$T/catalog.db?mode=ro', uri=True); print(c.execute(\"SELECT count(*) FROM jobs WHERE state IN ('RUNNING','PENDING')\").fetchone()[0])")
[ "$running" = 0 ] || fail "$running job(s) left RUNNING or PENDING in the catalog after SIGTERM"

step "restart: the jobs of the first run are all final"
start_server "$T/server.yaml"
api "/api/v1/jobs?limit=1000" > "$T/jobs2.json"
python3 - "$T/jobs2.json" "$LAST_ID" <<'PY' || fail "jobs of the first run not final after the restart"
import json, sys
old = [x for x in json.load(open(sys.argv[1]))["jobs"] if x["id"] <= int(sys.argv[2])]
assert old, "no jobs of the first run"
live = [(x["id"], x["plan"], x["state"]) for x in old if x["state"] in ("RUNNING", "PENDING")]
assert not live, live
stream = [x for x in old if x["plan"] == "db.stream"]
assert stream and stream[0]["state"] == "CANCELED", [(x["state"], x.get("reason")) for x in stream]
PY
stop_server TERM
[ "$SERVER_RC" = 0 ] || fail "arca server exited $SERVER_RC after the second SIGTERM"

step "restore files: byte for byte"
CONF_POINT=$(py 'max(j["points"], key=lambda p: p["time_unix"])["snapshot_id"]' "$T/conf-points.json")
a restore --repo "$REPO" --password-file "$PW" "$CONF_POINT" --target "$T/r-files" -q
same_tree "$T/files" "$T/r-files/files"

step "restore Redis into a second server: every key identical"
a redis restore latest --source cache --repo "$REPO" --password-file "$PW" --into "redis://127.0.0.1:$copy_PORT" -q
redis-cli -p "$cache_PORT" --scan | sort > "$T/k1"
redis-cli -p "$copy_PORT" --scan | sort > "$T/k2"
[ "$(wc -l < "$T/k1")" -ge 3000 ] || fail "the source Redis holds only $(wc -l < "$T/k1") keys"
diff -q "$T/k1" "$T/k2" >/dev/null || fail "restored Redis keys differ from the source's"
xargs -n 500 redis-cli -p "$cache_PORT" DEBUG DIGEST-VALUE < "$T/k1" > "$T/d1"
xargs -n 500 redis-cli -p "$copy_PORT" DEBUG DIGEST-VALUE < "$T/k1" > "$T/d2"
cmp -s "$T/d1" "$T/d2" || fail "restored Redis values differ from the source's"

step "restore Kafka into the second cluster: all 5000 records"
a kafka restore latest --source events --repo "$REPO" --password-file "$PW" --brokers "$dst_BS" --json --no-progress > "$T/kr.json"
[ "$(py 'j["records"]' "$T/kr.json")" = 5000 ] || fail "Kafka restore replayed $(py 'j["records"]' "$T/kr.json") records, not 5000"
KT dump "$src_BS" orders | sort > "$T/ksrc"
KT dump "$dst_BS" orders | sort > "$T/kdst"
[ "$(wc -l < "$T/kdst")" = 5000 ] || fail "the restored topic holds $(wc -l < "$T/kdst") records"
diff -q "$T/ksrc" "$T/kdst" >/dev/null || fail "restored Kafka records differ from the source's"

step "restore PostgreSQL from the server's base backup + streamed WAL: the rows after the base backup are back"
# The restored cluster's restore_command (arca pg wal-fetch) runs as postgres and reads the
# repository, which the server, as root, wrote for root alone (docs/postgres.md, "Permissions").
chown -R postgres: "$REPO"
P=$(free_port)
a pg restore --repo "$REPO" --password-file "$PW" --source db --to "$T/r-pg/data" --start --port "$P" --no-archive -q
[ "$(qp "$P" -c "SELECT phase, count(*) FROM marks GROUP BY phase ORDER BY phase" | tr '\n' ' ')" = "after|500 before|1000 " ] \
  || fail "restored rows: $(qp "$P" -c "SELECT phase, count(*) FROM marks GROUP BY phase" | tr '\n' ' ') (expected after|500 before|1000)"
[ "$(qp "$P" -c "SELECT md5(string_agg(id || phase, ',' ORDER BY id)) FROM marks")" = \
  "$(q -c "SELECT md5(string_agg(id || phase, ',' ORDER BY id)) FROM marks")" ] || fail "restored rows differ from the source's"
stop_restored "$T/r-pg/data"
echo "PASS (${SECONDS}s)"
