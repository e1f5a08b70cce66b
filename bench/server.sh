#!/usr/bin/env bash
# `arca server` benchmark (issue 20, "Performance"): the scheduler under many plans, and the API
# on a large catalog.
#
#   bench/server.sh [--arca BINARY] [--plans N] [--minutes M] [--max-jobs J] [--offset O] [--every D]
#                   [--part schedule|api|all] [--filler BINARY] [--job-rows N] [--points N]
#                   [--sources N] [--requests N] [--keep-catalog] [--workdir DIR]
#
# Part "schedule" (defaults: 1000 plans, 4 minutes, max-jobs 8): N plans, each backing up its own
# tiny files source (a folder with one 20-byte file) into ONE shared local repository (arca init
# --kdf-memory 8192 --kdf-time 1), every plan on `every: 1m` (start window 10m). The server runs
# M minutes plus the one in which it starts; a sampler reads its utime+stime and VmRSS from /proc
# once a second; afterwards every job comes from GET /api/v1/jobs. Reported: start delay
# (started_at − scheduled_at) of all jobs and of the first max-jobs jobs of each scheduled time,
# creation delay (created_at − scheduled_at), the hand-off delay (start − the later of the
# scheduled time and the moment a slot freed), CPU% of one core in the seconds in which no job was
# pending or running, idle and peak RSS. `every: 1m` is anchored at the epoch, so all N plans are
# due in the same second and max-jobs of them start at once; --offset auto gives every plan
# `offset: auto` (each plan its own second of the minute, ~N/60 jobs per second); --every D
# gives every plan `every: D` (`--every 1h`: nothing falls due in the window, which measures the
# server holding N plans between runs).
#
# Part "api" (defaults: 1,000,000 job rows, 100,000 recovery points, 200 sources): the filler
# (bench/server_fill.cpp, built as bench/arca_server_fill next to the Release arca; --filler to
# name it) writes a catalog through the Catalog interface on /dev/shm (tmpfs: fsync costs nothing
# there), which is copied to the work folder; then the server starts on it with 1,000 paused plans
# on those 200 sources and N requests (default 1000) each go to /api/v1/status,
# /api/v1/jobs?limit=50 and /metrics over one keep-alive connection (bench/server_probe.py).
# --keep-catalog reuses the catalog of the previous api run (the fill takes minutes).
#
# Results (markdown) go to stdout, progress to stderr. The machine must be otherwise idle: the
# script waits while a compiler or test runner is running and prints `uptime` before and after.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CMDLINE="bench/server.sh${*:+ $*}"
ARCA=$ROOT/build/arca PLANS=1000 MINUTES=4 MAX_JOBS=8 OFFSET= EVERY=1m PART=all FILLER=
JOB_ROWS=1000000 POINTS=100000 SOURCES=200 REQUESTS=1000 KEEP_CATALOG=0 WORKDIR=$BENCH_DIR/work
while [ $# -gt 0 ]; do
  case $1 in
    --arca) ARCA=$2; shift 2 ;;
    --plans) PLANS=$2; shift 2 ;;
    --minutes) MINUTES=$2; shift 2 ;;
    --max-jobs) MAX_JOBS=$2; shift 2 ;;
    --offset) OFFSET=$2; shift 2 ;;
    --every) EVERY=$2; shift 2 ;;
    --part) PART=$2; shift 2 ;;
    --filler) FILLER=$2; shift 2 ;;
    --job-rows) JOB_ROWS=$2; shift 2 ;;
    --points) POINTS=$2; shift 2 ;;
    --sources) SOURCES=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    --keep-catalog) KEEP_CATALOG=1; shift ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "server.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
die() { log "$*"; exit 1; }
ARCA=$(realpath "$ARCA")
"$ARCA" server --help >/dev/null 2>&1 || die "$ARCA has no 'server' command: give --arca a binary built after issue 20"
PROBE="python3 $BENCH_DIR/server_probe.py"
mkdir -p "$WORKDIR"
WBASE=$(cd "$WORKDIR" && pwd)/server W=
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
SERVER_PID= SAMPLER_PID=
cleanup() {
  [ -z "$SAMPLER_PID" ] || kill "$SAMPLER_PID" 2>/dev/null || true
  [ -z "$SERVER_PID" ] || { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; } || true
  rm -f /dev/shm/arca-bench-catalog.db*
}
trap cleanup EXIT

# Benchmarks never run beside a build or a test run: wait for them to end.
wait_quiet() {
  local waited=0
  while pgrep -f 'cmake|make|ninja|cc1plus|ctest' >/dev/null; do
    [ $waited -gt 0 ] || log "waiting: a build or test run is in progress"
    waited=1; sleep 10
  done
}
start_server() {  # start_server CONFIG
  "$ARCA" server --config "$1" >> "$W/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    curl -fsS "$URL/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$W/server.log" >&2; die "arca server exited at start"; }
    sleep 0.1
  done
  die "arca server not ready within 60 s (log: $W/server.log)"
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=; }
make_token() {  # make_token CONFIG
  "$ARCA" server token create --config "$1" --name bench --role viewer > "$W/token"
  chmod 600 "$W/token"
}
server_yaml() {  # server_yaml CATALOG MAX_JOBS: the server and repository sections
  cat <<EOF
server:
  listen: "127.0.0.1:$PORT"
  catalog: $1
  max-jobs: $2
  log-format: text
repositories:
  main: {location: $W/repo, password-file: $W/repo.pass}
EOF
}

echo "# arca server benchmark"
echo
echo "\`$CMDLINE\` — $(date -u +%Y-%m-%dT%H:%M:%SZ), arca $("$ARCA" --version 2>/dev/null | head -1) ($ARCA)"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p') × $(nproc); load before: $(uptime | sed 's/.*load average: //')"

schedule_part() {
  local W=$WBASE/schedule
  rm -rf "$W"; mkdir -p "$W/src"
  echo bench-password > "$W/repo.pass"; chmod 600 "$W/repo.pass"
  ARCA_PASSWORD_FILE=$W/repo.pass "$ARCA" init --repo "$W/repo" --kdf-memory 8192 --kdf-time 1 -q
  local conf=$W/server.yaml i
  { server_yaml "$W/catalog.db" "$MAX_JOBS"; echo "sources:"; } > "$conf"
  for i in $(seq 1 "$PLANS"); do
    mkdir -p "$W/src/s$i"; echo "tiny source number $i" > "$W/src/s$i/file.txt"
    echo "  s$i: {kind: files, repository: main, paths: [$W/src/s$i]}" >> "$conf"
  done
  echo "plans:" >> "$conf"
  for i in $(seq 1 "$PLANS"); do
    echo "  p$i: {source: s$i, schedule: {every: $EVERY${OFFSET:+, offset: $OFFSET}}, start-window: 10m}" >> "$conf"
  done
  chmod 600 "$conf"
  "$ARCA" server check-config "$conf" >&2
  make_token "$conf"
  wait_quiet
  echo "load before the schedule part: $(uptime | sed 's/.*load average: //')"
  log "schedule: $PLANS plans, max-jobs $MAX_JOBS, ${MINUTES} min after the first whole minute"
  # Start just after a whole minute, so that the first minute shows the server settling.
  sleep $(( (65 - $(date +%s) % 60) % 60 ))
  start_server "$conf"
  local t0 t_end
  t0=$(date +%s)
  $PROBE sample "$SERVER_PID" "$W/samples.txt" $(( (MINUTES + 1) * 60 )) &
  SAMPLER_PID=$!
  # Measure from the first due time after the start (the start itself: catalog, plans) to the end.
  local t_from=$(( (t0 / 60 + 1) * 60 ))
  t_end=$(( t0 + (MINUTES + 1) * 60 ))
  wait "$SAMPLER_PID" || true; SAMPLER_PID=
  $PROBE jobs "$URL" "$W/token" "$W/jobs.json" "$t_from"
  stop_server
  echo "load after: $(uptime | sed 's/.*load average: //')"
  echo
  echo "## Scheduling: $PLANS plans, every: $EVERY${OFFSET:+, offset: $OFFSET}, max-jobs $MAX_JOBS, $MINUTES min"
  echo
  $PROBE schedule "$W/samples.txt" "$W/jobs.json" "$W/server.log" "$MAX_JOBS" "$t_from" "$t_end"
  echo
  echo "server log: $(grep -c ' error ' "$W/server.log" || true) error lines; repository: $(du -sh "$W/repo" | cut -f1)"
}

api_part() {
  local filler=$FILLER
  [ -n "$filler" ] || filler=$(dirname "$ARCA")/bench/arca_server_fill
  [ -x "$filler" ] || die "no catalog filler at $filler: build bench/server_fill.cpp (target arca_server_fill) or give --filler"
  local W=$WBASE/api
  if [ "$KEEP_CATALOG" = 1 ] && [ -f "$W/catalog.db" ] && [ -f "$W/fill.txt" ]; then
    log "api: keeping the catalog filled by the previous run ($W/catalog.db)"
    rm -rf "$W/src" "$W/server.log"
  else
    rm -rf "$W"; mkdir -p "$W"
    echo bench-password > "$W/repo.pass"; chmod 600 "$W/repo.pass"
    ARCA_PASSWORD_FILE=$W/repo.pass "$ARCA" init --repo "$W/repo" --kdf-memory 8192 --kdf-time 1 -q
    local shm=/dev/shm/arca-bench-catalog.db
    rm -f "$shm"*
    log "api: filling a catalog with $JOB_ROWS jobs, $POINTS points, $SOURCES sources, $PLANS plans"
    "$filler" --catalog "$shm" --jobs "$JOB_ROWS" --points "$POINTS" --sources "$SOURCES" --plans "$PLANS" \
      --measure-on "$W/measure.db" > "$W/fill.txt"
    cp "$shm" "$W/catalog.db"; rm -f "$shm"*  # the filler closed it: the WAL is checkpointed into it
  fi
  local conf=$W/server.yaml i
  { server_yaml "$W/catalog.db" 4; echo "sources:"; } > "$conf"
  mkdir -p "$W/src"
  for i in $(seq 1 "$SOURCES"); do
    mkdir -p "$W/src/s$i"
    echo "  s$i: {kind: files, repository: main, paths: [$W/src/s$i], objectives: {rpo: 1h, rto: 1h}}" >> "$conf"
  done
  echo "plans:" >> "$conf"
  for i in $(seq 1 "$PLANS"); do
    echo "  p$i: {source: s$(( (i - 1) % SOURCES + 1 )), schedule: {every: 1h}, paused: true}" >> "$conf"
  done
  chmod 600 "$conf"
  make_token "$conf"
  wait_quiet
  echo "load before the api part: $(uptime | sed 's/.*load average: //')"
  local t_start; t_start=$(date +%s.%N)
  start_server "$conf"
  echo
  echo "## API on a catalog of $JOB_ROWS jobs and $POINTS recovery points ($SOURCES sources, $PLANS paused plans)"
  echo
  cat "$W/fill.txt"
  echo "catalog: $(du -h "$W/catalog.db" | cut -f1); server ready after $(python3 -c "import time; print(f'{time.time() - $t_start:.1f}')") s"
  echo
  $PROBE latency "$URL" "$W/token" "$REQUESTS" /api/v1/status "/api/v1/jobs?limit=50" /metrics
  echo
  echo "server RSS after the requests: $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/"$SERVER_PID"/status)"
  stop_server
  echo "load after: $(uptime | sed 's/.*load average: //')"
}

case $PART in
  schedule) schedule_part ;;
  api) api_part ;;
  all) schedule_part; api_part ;;
  *) die "--part is schedule, api or all" ;;
esac
