#!/usr/bin/env bash
# One disaster-recovery drill of four components (issue 21) against the peers' restores of the
# same data, same run.
#
#   bench/drill.sh [--scale N] [--keys N] [--records N] [--size-mib N] [--runs N] [--workdir DIR]
#                  [--arca PATH] [--kafka-tool PATH] [--load-seconds N] [--partitions N] [--value-bytes N]
#                  [--kafka-into scratch|cluster]
#
# Defaults are the issue's sizes: pgbench scale 50, 1,000,000 Redis keys, 1,000,000 Kafka records
# (~200 B: keys, 150-byte values, headers; librdkafka's mock cluster, 128 partitions), the 1 GiB
# file set of bench/make-data.py; 3 runs. --arca defaults to build/arca, --kafka-tool to the
# kafka_tool next to it (tests/kafka_tool). Runs as root (PostgreSQL runs as the postgres user).
# --kafka-into: where the drill replays Kafka: `cluster` (default), the benchmark's mock cluster
# (the one kcat produces into, so both replay into the same kind of cluster) under a topic prefix
# per run, into topics created beforehand with the archived partition count; `scratch`, the
# drill's own in-process mock cluster (what a drill file without a Kafka target does).
#
# Set up once, everything in ONE Arca repository (default init: zstd 3, AES-256-GCM, Argon2id):
#   PostgreSQL: pgbench -i -s SCALE, WAL archived by `arca pg wal-push` and pgBackRest's
#     archive-push (one archive_command), base backups by both; then pgbench -T LOAD, a marker
#     row, the recovery time T, a second marker row, more load; then the server is stopped;
#   Redis: DEBUG POPULATE KEYS, `arca redis backup`, and `redis-cli --rdb` for the peer;
#   Kafka: RECORDS records produced by kafka_tool, a consumer group with offsets committed at half
#     of each partition, `arca kafka backup` (with the group), and `kcat -C` for the peer;
#   files: the make-data.py set, `arca backup` and `restic backup` (repository format 2).
# A drill file with four components and no dependencies (so they run in parallel): postgres
# recover-to {time: T} with SQL checks (one marker row, SCALE*100000 accounts), redis min-keys,
# kafka min-records (and, when the drill replays Kafka, per-partition counts, checksums and the
# group's translated offsets), files (the manifest and named files); RTO objectives are the
# issue's targets (10 s, 3 s, 5 s, 3 s).
# Measured per run, order alternating (drill first, then peers; then the reverse):
#   `arca drill run --json`: wall time, and per component its phases and RTO from the report;
#   pgBackRest restore --type=time to T + pg_ctl start until the server is read-write;
#   redis-server started on redis-cli's RDB file until it answers PING with every key loaded;
#   kcat -P of the archived records into a fresh topic (no offset mapping);
#   restic restore of the same file set, followed by sync -f (Arca's restore syncs itself).
# The peers run one at a time; the drill's components share the two cores. Prints Markdown with
# medians and ratios; the drill reports and the raw numbers go to WORKDIR/results/.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CMDLINE="bench/drill.sh${*:+ $*}"
SCALE=50 KEYS=1000000 RECORDS=1000000 SIZE_MIB=1024 RUNS=3 WORKDIR=$BENCH_DIR/work
ARCA_SRC=$ROOT/build/arca KT='' LOAD=10 PARTS=128 VBYTES=150 SEED=42 KAFKA_INTO=cluster
die() { echo "drill.sh: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case $1 in
    --scale) need "$@"; SCALE=$2; shift 2 ;;
    --keys) need "$@"; KEYS=$2; shift 2 ;;
    --records) need "$@"; RECORDS=$2; shift 2 ;;
    --size-mib) need "$@"; SIZE_MIB=$2; shift 2 ;;
    --runs) need "$@"; RUNS=$2; shift 2 ;;
    --workdir) need "$@"; WORKDIR=$2; shift 2 ;;
    --arca) need "$@"; ARCA_SRC=$2; shift 2 ;;
    --kafka-tool) need "$@"; KT=$2; shift 2 ;;
    --load-seconds) need "$@"; LOAD=$2; shift 2 ;;
    --partitions) need "$@"; PARTS=$2; shift 2 ;;
    --value-bytes) need "$@"; VBYTES=$2; shift 2 ;;
    --kafka-into) need "$@"; KAFKA_INTO=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
for v in SCALE KEYS RECORDS SIZE_MIB RUNS LOAD PARTS VBYTES; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || die "--$(echo "$v" | tr 'A-Z_' 'a-z-') must be a positive integer"
done
case $KAFKA_INTO in scratch|cluster) ;; *) die "--kafka-into is scratch or cluster" ;; esac
[ "$SIZE_MIB" -ge 8 ] || die "--size-mib must be at least 8 (make-data.py)"
[ "$(id -u)" = 0 ] || die "runs as root (PostgreSQL and the archive command run as the postgres user)"
[ -x "$ARCA_SRC" ] || die "no arca binary at $ARCA_SRC (build it, or give --arca PATH)"
[ -n "$KT" ] || KT=$(dirname "$ARCA_SRC")/tests/kafka_tool
[ -x "$KT" ] || KT=$ROOT/build/tests/kafka_tool
[ -x "$KT" ] || die "no kafka_tool next to $ARCA_SRC nor in build/tests (give --kafka-tool PATH)"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
for tool in pgbackrest restic kcat redis-server redis-cli pgbench python3; do
  command -v $tool >/dev/null && continue
  case $tool in
    pgbackrest|restic|kcat) log "installing $tool (Debian package)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $tool >/dev/null ;;
    *) die "$tool is not installed" ;;
  esac
done

mkdir -p "$WORKDIR/results"
WORKDIR=$(cd "$WORKDIR" && pwd)
RESULTS_DIR=$WORKDIR/results
STAMP=$(date -u +%Y%m%d-%H%M%S)
W=$WORKDIR/drill
DATA=$WORKDIR/dataset-$SIZE_MIB-s$SEED  # shared with bench/run.sh (make-data.py reuses it)
SRV=$W/pg
RSRV=$W/redis
REPO=$W/repo
PGBR_REPO=$W/pgbr-repo
PGBR_CONF=$W/pgbackrest.conf
SCRATCH=$W/scratch
PEER=$W/peer  # the peers' restore targets
as_pg() { runuser -u postgres -- "$@"; }

# Everything this script started, stopped by pid or data directory (never by name).
MOCK_PID=
cleanup() {
  local rc=$?
  set +e
  [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
  for f in "$PEER"/*/redis.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
  for d in "$PEER"/pg/data "$SRV/data"; do
    [ -f "$d/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
  done
  "$ROOT/tests/servers/redis.sh" stop "$RSRV" 2>/dev/null
  exit $rc
}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
trap cleanup EXIT

rm -rf "$W"; mkdir -p "$W" "$SCRATCH" "$PEER"
chmod 755 "$W" "$SCRATCH" "$PEER"
# The postgres user runs the archive command and every arca backup, so it reaches everything here.
p=$W; while [ "$p" != / ]; do p=$(dirname "$p"); [ -x "$p" ] || chmod o+x "$p"; done
chown postgres: "$W"
install -m 755 "$ARCA_SRC" "$W/arca"  # a private copy: a rebuild during the benchmark cannot change it
ARCA=$W/arca
echo bench-password > "$W/pw"; chown postgres: "$W/pw"; chmod 600 "$W/pw"
A_PG() { as_pg "$ARCA" "$@" --repo "$REPO" --password-file "$W/pw"; }
now() { echo "$EPOCHREALTIME"; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RAW=$W/peers.txt; : > "$RAW"
record() { echo "$1 $2" >> "$RAW"; log "$1 = $2 s"; }  # peer seconds

# --- setup: PostgreSQL --------------------------------------------------------------------------
log "PostgreSQL: pgbench -i -s $SCALE, WAL archived by arca and pgBackRest"
PG_EXTRA_CONF="archive_mode = on
archive_command = 'pgbackrest --config=$PGBR_CONF --stanza=bench archive-push %p && $ARCA pg wal-push --repo $REPO --password-file $W/pw %p'
max_wal_size = 4GB" "$ROOT/tests/servers/postgres.sh" start "$SRV"
source "$SRV/env"
cat > "$PGBR_CONF" <<CONF
[global]
repo1-path=$PGBR_REPO
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=bench-password
repo1-retention-full=99
process-max=2
compress-type=zst
compress-level=3
start-fast=y
log-level-console=warn
log-level-file=off
lock-path=$W/pgbr-lock
spool-path=$W/pgbr-spool
[bench]
pg1-path=$PGDATA
pg1-port=$PGPORT
pg1-socket-path=$SRV
CONF
chown postgres: "$PGBR_CONF"
as_pg "$ARCA" init --repo "$REPO" --password-file "$W/pw" -q
as_pg pgbackrest --config="$PGBR_CONF" --stanza=bench stanza-create >/dev/null
psqlq() { as_pg psql -h "$SRV" -p "$PGPORT" -XAtq -v ON_ERROR_STOP=1 "$@"; }
as_pg "$PG_BIN/pgbench" -h "$SRV" -p "$PGPORT" -i -s "$SCALE" -q postgres >/dev/null 2>&1
psqlq -c "CREATE TABLE marks (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())"
DB_BYTES=$(psqlq -c "SELECT sum(pg_database_size(oid)) FROM pg_database")
A_PG pg backup --name bench-pg -q --no-progress
as_pg pgbackrest --config="$PGBR_CONF" --stanza=bench backup --type=full >/dev/null
log "PostgreSQL: pgbench -T $LOAD, the recovery time between two marker rows"
as_pg "$PG_BIN/pgbench" -h "$SRV" -p "$PGPORT" -T "$LOAD" -c 2 postgres >/dev/null 2>&1
psqlq -c "INSERT INTO marks VALUES (1)"
sleep 1
TARGET=$(psqlq -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
sleep 1
psqlq -c "INSERT INTO marks VALUES (2)"
as_pg "$PG_BIN/pgbench" -h "$SRV" -p "$PGPORT" -T 3 -c 2 postgres >/dev/null 2>&1
# The segment the switch closed: autovacuum may write more WAL after it, which is not needed.
LAST_SEG=$(psqlq -c "SELECT pg_walfile_name(pg_switch_wal() - 1)")
archived() { [ "$(psqlq -c "SELECT coalesce(last_archived_wal >= '$LAST_SEG', false) FROM pg_stat_archiver")" = t ]; }
for _ in $(seq 300); do archived && break; sleep 0.2; done
archived || die "WAL segment $LAST_SEG (past the recovery time) was not archived within a minute (see $SRV/server.log)"
ACCOUNTS=$((SCALE * 100000))
# Only the repositories matter from here on: the source server goes, as in a disaster.
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
TARGET_PG=$(echo "$TARGET" | sed 's/T/ /; s/Z$/+00/')
log "PostgreSQL: recovery time $TARGET (database $((DB_BYTES / 1048576)) MiB)"

# --- setup: Redis -----------------------------------------------------------------------------------
log "Redis: $KEYS keys"
"$ROOT/tests/servers/redis.sh" start "$RSRV"
source "$RSRV/env"
redis-cli -p "$REDIS_PORT" DEBUG POPULATE "$KEYS" key 100 >/dev/null
[ "$(redis-cli -p "$REDIS_PORT" DBSIZE)" = "$KEYS" ] || die "Redis holds $(redis-cli -p "$REDIS_PORT" DBSIZE) keys, not $KEYS"
A_PG redis backup --url "$REDIS_URL" --name bench-redis -q --no-progress
redis-cli -p "$REDIS_PORT" --rdb "$W/dump.rdb" >/dev/null 2>&1
RDB_BYTES=$(stat -c %s "$W/dump.rdb")
"$ROOT/tests/servers/redis.sh" stop "$RSRV"

# --- setup: Kafka ----------------------------------------------------------------------------------------
log "Kafka: $RECORDS records in $PARTS partitions (mock cluster)"
kcat_topics=()
for r in $(seq "$RUNS"); do
  kcat_topics+=(-t "kcat$r:$PARTS:1")
  if [ "$KAFKA_INTO" = cluster ]; then kcat_topics+=(-t "drill$r-bench:$PARTS:1"); fi
done
"$KT" mock -b 1 -f "$W/bs" -t "bench:$PARTS:1" "${kcat_topics[@]}" 2> "$W/mock.log" &
MOCK_PID=$!
for _ in $(seq 100); do [ -s "$W/bs" ] && break; sleep 0.05; done
[ -s "$W/bs" ] || { cat "$W/mock.log" >&2; die "the mock Kafka cluster did not start"; }
BS=$(cat "$W/bs")
"$KT" produce "$BS" bench "$RECORDS" 0 "$VBYTES"
"$KT" dump "$BS" bench > "$W/source.txt"
[ "$(wc -l < "$W/source.txt")" = "$RECORDS" ] \
  || die "the mock kept $(wc -l < "$W/source.txt") of $RECORDS records: use more --partitions"
# The group has consumed half of every partition that holds two records or more.
mapfile -t commits < <(cut -f1 "$W/source.txt" | sort -n | uniq -c | awk '$1 >= 2 {print $2 "=" int($1 / 2)}')
"$KT" commit "$BS" bench-consumers bench "${commits[@]}"
A_PG kafka backup --brokers "$BS" --topics '^bench$' --group bench-consumers --name bench-kafka \
  --admin-timeout 500 -q --no-progress
kcat -C -b "$BS" -t bench -o beginning -e -q -X queued.min.messages=200000 -f '%k\t%s\n' > "$W/kcat.in"
[ "$(wc -l < "$W/kcat.in")" -ge "$RECORDS" ] || die "kcat archived $(wc -l < "$W/kcat.in") records, fewer than $RECORDS"

# --- setup: files ---------------------------------------------------------------------------------------------
log "files: $SIZE_MIB MiB data set in $DATA"
python3 "$BENCH_DIR/make-data.py" "$DATA" --size-mib "$SIZE_MIB" --seed "$SEED" >&2
chmod -R o+rX "$DATA"
DATA_BYTES=$(find "$DATA" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d\n", s}')
DATA_FILES=$(find "$DATA" -type f | wc -l)
A_PG backup --no-progress -q "$DATA"
export RESTIC_PASSWORD=bench-password RESTIC_CACHE_DIR=$W/restic-cache
unset RESTIC_REPOSITORY RESTIC_PASSWORD_FILE RESTIC_PASSWORD_COMMAND RESTIC_COMPRESSION
restic -r "$W/restic" init --repository-version 2 -q
restic -r "$W/restic" backup --compression auto -q "$DATA" >/dev/null
SOME_FILE=$(cd "$DATA" && find large text -type f | sort | head -1)

# --- the drill file -------------------------------------------------------------------------------------------------
PG_SOURCE=$(A_PG snapshots --json | python3 -c '
import json, sys
print([s for s in json.load(sys.stdin) if s["source"]["kind"] == "postgres"][-1]["source"]["name"])')
drill_file() {  # drill_file RUN: the drill of one run (a Kafka target has a topic prefix per run)
  local kafka_target=''
  if [ "$KAFKA_INTO" = cluster ]; then kafka_target="    target: {brokers: [$BS], topic-prefix: drill$1-}
"; fi
  cat > "$W/drill$1.yaml" <<YAML
drill: bench
scratch: $SCRATCH
components:
  pg:
    kind: postgres
    source: $PG_SOURCE
    recover-to: {time: $TARGET}
    objectives: {rto: 10s}
    validate:
      sql:
        - {name: one marker row at the recovery time, query: "SELECT count(*) FROM marks", expect: "= 1"}
        - {name: pgbench accounts, query: "SELECT count(*) FROM pgbench_accounts", expect: "= $ACCOUNTS"}
  redis:
    kind: redis
    source: bench-redis
    objectives: {rto: 3s}
    validate: {min-keys: $KEYS}
  kafka:
    kind: kafka
    source: bench-kafka
    groups: [bench-consumers]
$kafka_target    objectives: {rto: 5s}
    validate: {min-records: $RECORDS}
  files:
    kind: files
    paths: [$DATA]
    objectives: {rto: 3s}
    validate:
      files: [$SOME_FILE, .bench-manifest.json]
YAML
  "$ARCA" drill check "$W/drill$1.yaml" >/dev/null || die "arca drill check refused $W/drill$1.yaml"
}
for r in $(seq "$RUNS"); do drill_file "$r"; done

# --- the runs -----------------------------------------------------------------------------------------------------------
run_drill() {  # run_drill RUN
  local out=$RESULTS_DIR/drill-$STAMP-run$1.json t0 t1 rc=0
  log "run $1: arca drill run"
  t0=$(now)
  "$ARCA" drill run "$W/drill$1.yaml" --repo "$REPO" --password-file "$W/pw" --json --no-progress \
    --markdown "$W/drill-run$1.md" > "$out" 2> "$W/drill-run$1.log" || rc=$?
  t1=$(now)
  # 17: restored and validated, an RTO objective missed: a result, not a failure of the benchmark.
  if [ $rc != 0 ] && [ $rc != 17 ]; then
    cat "$W/drill-run$1.log" "$W/drill-run$1.md" >&2 2>/dev/null || true
    die "arca drill run exited $rc (report: $out)"
  fi
  echo "$1 $(elapsed "$t0" "$t1") $out" >> "$W/drills.txt"
  log "run $1: drill wall $(elapsed "$t0" "$t1") s, exit $rc"
}
wait_primary() {  # port: until the server answers as a primary (read-write)
  for _ in $(seq 6000); do
    [ "$(as_pg psql -h 127.0.0.1 -p "$1" -XAtqc "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] && return 0
    sleep 0.02
  done
  return 1
}
peer_pg() {
  local d=$PEER/pg port t0 t1
  rm -rf "$d"; mkdir -p "$d/data"; chown -R postgres: "$d"; chmod 700 "$d/data"
  port=$(free_port)
  t0=$(now)
  as_pg pgbackrest --config="$PGBR_CONF" --stanza=bench restore --pg1-path="$d/data" --type=time \
    --target="$TARGET_PG" --target-action=promote --archive-mode=off >/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$d/data" -o "-p $port -c unix_socket_directories=$d -c listen_addresses=127.0.0.1" \
    -l "$d/log" -w start >/dev/null
  wait_primary "$port" || die "pgBackRest's restored server did not become read-write (see $d/log)"
  t1=$(now)
  record pgbackrest "$(elapsed "$t0" "$t1")"
  local marks; marks=$(as_pg psql -h 127.0.0.1 -p "$port" -XAtqc "SELECT count(*) FROM marks")
  [ "$marks" = 1 ] || die "pgBackRest's restore to $TARGET_PG holds $marks marker rows, not 1"
  as_pg "$PG_BIN/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null
  rm -rf "$d"
}
peer_redis() {
  local d=$PEER/redis port t0 t1 pid
  rm -rf "$d"; mkdir -p "$d"; cp "$W/dump.rdb" "$d/dump.rdb"
  port=$(free_port)
  t0=$(now)
  redis-server --port "$port" --bind 127.0.0.1 --dir "$d" --dbfilename dump.rdb --save "" --appendonly no \
    --logfile "$d/redis.log" --pidfile "$d/redis.pid" &
  pid=$!
  until [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ] && [ "$(redis-cli -p "$port" DBSIZE)" = "$KEYS" ]; do
    kill -0 "$pid" 2>/dev/null || die "redis-server on redis-cli's RDB file ended (see $d/redis.log)"
    sleep 0.01
  done
  t1=$(now)
  record redis-server "$(elapsed "$t0" "$t1")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$d"
}
peer_kafka() {  # RUN: a fresh topic per run
  local t0 t1
  t0=$(now)
  kcat -P -b "$BS" -t "kcat$1" -K '\t' -l "$W/kcat.in"
  t1=$(now)
  record kcat "$(elapsed "$t0" "$t1")"
}
peer_files() {
  local d=$PEER/files t0 t1
  rm -rf "$d"; mkdir -p "$d"
  t0=$(now)
  restic -r "$W/restic" restore latest --target "$d" -q
  sync -f "$d"
  t1=$(now)
  record restic "$(elapsed "$t0" "$t1")"
  [ "$(find "$d$DATA" -type f | wc -l)" = "$DATA_FILES" ] || die "restic restored a different number of files"
  rm -rf "$d"
}
peers() { log "run $1: peers"; peer_pg; peer_redis; peer_kafka "$1"; peer_files; }
: > "$W/drills.txt"
for r in $(seq "$RUNS"); do
  if [ $((r % 2)) = 1 ]; then run_drill "$r"; peers "$r"; else peers "$r"; run_drill "$r"; fi
done

# --- the report -----------------------------------------------------------------------------------------------------------
CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
python3 - "$W/drills.txt" "$RAW" "$RESULTS_DIR/drill-$STAMP.json" "$CMDLINE" "$CPU" "$(nproc)" \
  "$SCALE" "$DB_BYTES" "$KEYS" "$RDB_BYTES" "$RECORDS" "$PARTS" "$SIZE_MIB" "$DATA_BYTES" "$DATA_FILES" "$TARGET" \
  "$("$ARCA" --version 2>&1 | head -1) ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))" <<'PY'
import json, statistics, sys
(drills_txt, peers_txt, out, cmd, cpu, ncpu, scale, db_bytes, keys, rdb_bytes, records, parts,
 size_mib, data_bytes, data_files, target, version) = sys.argv[1:]
med = statistics.median
runs = []
for line in open(drills_txt):
    run, wall, path = line.split()
    runs.append({"run": int(run), "wall_s": float(wall), "report": json.load(open(path)), "path": path})
peers = {}
for line in open(peers_txt):
    tool, secs = line.split()
    peers.setdefault(tool, []).append(float(secs))

TARGETS = {"pg": 10.0, "redis": 3.0, "kafka": 5.0, "files": 3.0}
PHASES = ["locate", "restore", "start", "validate"]
PEERS = {"pg": ("pgbackrest", "pgBackRest restore --type=time + start until read-write"),
         "redis": ("redis-server", "redis-server on `redis-cli --rdb`'s file until PING and every key"),
         "kafka": ("kcat", "`kcat -P` of the archived records into a fresh topic (no offsets)"),
         "files": ("restic", "`restic restore` + `sync -f`")}
comp = {}
for r in runs:
    for c in r["report"]["components"]:
        m = comp.setdefault(c["name"], {"phases": {}, "rto": [], "ready": [], "status": [], "checks": c["checks"]})
        m["rto"].append(c["rto_s"])
        m["status"].append(c["status"])
        m["checks"] = c["checks"]
        ready = 0.0
        for p in c["phases"]:
            name = "start" if p["name"].startswith("start") else p["name"]
            m["phases"].setdefault(name, []).append(p["end_s"] - p["start_s"])
            if name != "validate":
                ready = max(ready, p["end_s"])
        m["ready"].append(ready)
json.dump({"command": cmd, "cpu": cpu, "cpus": int(ncpu), "arca": version, "recovery_time": target,
           "sizes": {"pgbench_scale": int(scale), "database_bytes": int(db_bytes), "redis_keys": int(keys),
                     "rdb_bytes": int(rdb_bytes), "kafka_records": int(records), "kafka_partitions": int(parts),
                     "file_bytes": int(data_bytes), "files": int(data_files)},
           "drills": [{"run": r["run"], "wall_s": r["wall_s"], "report": r["path"]} for r in runs],
           "peers_s": peers}, open(out, "w"), indent=1)

f = lambda x: "%.2f" % x
print(f"Command: `{cmd}` — {cpu}, {ncpu} CPUs; {version}; medians of {len(runs)} run(s)\n")
print(f"Data: pgbench scale {scale} ({int(db_bytes) / 2**20:.0f} MiB) recovered to {target}; Redis {int(keys):,} keys "
      f"(RDB {int(rdb_bytes) / 2**20:.0f} MiB); Kafka {int(records):,} records in {parts} partitions (mock cluster); "
      f"files {int(data_bytes) / 2**20:.0f} MiB in {int(data_files):,} files. One Arca repository.\n")
def verdict(values, limit, ok=None):
    ok = ok or [True] * len(values)
    n = sum(1 for x, good in zip(values, ok) if good and x <= limit)
    return ("met" if med(values) <= limit else "**not met**") + f" ({n}/{len(values)} runs)"
print("| component | locate | restore | start | validate | ready | **RTO** | target | ready ≤ target | RTO ≤ target |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name in ("pg", "redis", "kafka", "files"):
    m = comp.get(name)
    if not m:
        print(f"| {name} | not in the report | | | | | | | | |")
        continue
    cells = [f(med(m["phases"][p])) if p in m["phases"] else "—" for p in PHASES]
    ok = [s != "FAILED" for s in m["status"]]
    print(f"| {name} | " + " | ".join(cells) + f" | {f(med(m['ready']))} | **{f(med(m['rto']))}** | "
          f"{TARGETS[name]:.0f} | {verdict(m['ready'], TARGETS[name], ok)} | {verdict(m['rto'], TARGETS[name], ok)} |")
walls = [r["wall_s"] for r in runs]
durs = [r["report"]["duration_s"] for r in runs]
print(f"| **whole drill** | | | | | | **{f(med(walls))}** wall ({f(med(durs))} in the report) | 15 | | "
      f"{verdict(walls, 15.0, [r['report']['exit_code'] in (0, 17) for r in runs])} |")
print("\nSeconds (medians). Phases are durations; *ready* is from the drill's start to the end of the last phase "
      "before validation (PostgreSQL read-write, Redis serving, Kafka replayed with offsets mapped, files written); "
      "RTO is to the end of validation (the drill's own measure, judged against the same numbers as objectives). "
      "The four components run at the same time on the two cores; locate includes opening the repository.\n")
kafka = comp.get("kafka")
if kafka:
    names = [c["name"] for c in kafka["checks"]]
    replayed = any(n.startswith("group ") or n.startswith("records ") for n in names)
    where = ("the benchmark's mock cluster (the one kcat produces into) under a topic prefix" if "target" in names
             else "the drill's own scratch mock cluster (in its process)")
    print("Kafka: " + (f"replayed into {where}; record counts and checksums read back per partition, the group's "
                       "offsets translated and read back." if replayed else
                       "the archive verified only (this arca does not replay Kafka in drills).") + "\n")
print("| component | peer | peer (s, median) | Arca ready (s, median) | peer / Arca |")
print("|---|---|---|---|---|")
total = 0.0
for name in ("pg", "redis", "kafka", "files"):
    tool, label = PEERS[name]
    if tool not in peers or name not in comp:
        print(f"| {name} | {label} | not run | | |")
        continue
    p, a = med(peers[tool]), med(comp[name]["ready"])
    total += p
    print(f"| {name} | {label} | {f(p)} | {f(a)} | {p / a:.2f}× |")
print(f"| all four | the peers one after another (sum of medians) | {f(total)} | whole drill {f(med(walls))} "
      f"(validated) | {total / med(walls):.2f}× |")
PY
log "drill reports: $RESULTS_DIR/drill-$STAMP-run*.json; summary: $RESULTS_DIR/drill-$STAMP.json; Markdown reports in $W"
