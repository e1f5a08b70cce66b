#!/usr/bin/env bash
# Arca vs `redis-cli --rdb` capturing the same Redis data set, same server, same run.
#
#   bench/redis.sh [--keys N] [--runs N] [--workdir DIR]
#
# The server holds N string keys of 100 bytes (DEBUG POPULATE) plus 50,000 keys of every other
# type (tests/e2e/redis_fill.py). Both tools take the snapshot over the replication protocol from
# the same diskless primary (repl-diskless-sync-delay 0). redis-cli writes a plain file; Arca
# parses, checks, chunks, compresses (zstd 3), encrypts (AES-256-GCM) and deduplicates it into a
# fresh repository ("first"), and again into that repository ("repeat", data unchanged).
# Measured per run, alternating the order: wall time and peak RSS.
# Prints Markdown with medians and ratios; raw numbers go to WORKDIR/results/redis-DATE.json.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CMDLINE="bench/redis.sh${*:+ $*}"
KEYS=1000000 RUNS=5 WORKDIR=$BENCH_DIR/work
while [ $# -gt 0 ]; do
  case $1 in
    --keys) KEYS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "redis.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
mkdir -p "$WORKDIR/results"
WORKDIR=$(cd "$WORKDIR" && pwd)
W=$WORKDIR/redis
rm -rf "$W"; mkdir -p "$W"
export ARCA_PASSWORD=bench-password
RESULTS=$W/results.txt; : > "$RESULTS"
record() { echo "$1 $2 $3" >> "$RESULTS"; log "$1 $2 = $3"; }
trap '"$ROOT/tests/servers/redis.sh" stop "$W/server" || true' EXIT

"$ROOT/tests/servers/redis.sh" start "$W/server"
source "$W/server/env"
redis-cli -p "$REDIS_PORT" DEBUG POPULATE "$KEYS" key 100 >/dev/null
python3 "$ROOT/tests/e2e/redis_fill.py" 50000 mixed | redis-cli -p "$REDIS_PORT" --pipe >/dev/null
TOTAL=$(redis-cli -p "$REDIS_PORT" DBSIZE)
log "data set: $TOTAL keys"

# timed NAME TOOL command…: wall seconds and peak RSS (KiB) of the command.
timed() {
  local name=$1 tool=$2; shift 2
  /usr/bin/time -f '%e %M' -o "$W/time" "$@" >/dev/null
  read -r secs rss < "$W/time"
  record "${name}_s" "$tool" "$secs"
  record "${name}_rss_kib" "$tool" "$rss"
}
redis_cli() { timed capture redis-cli redis-cli -p "$REDIS_PORT" --rdb "$W/dump.rdb"; }
arca_first() {
  rm -rf "$W/repo"
  "$ROOT/build/arca" init --repo "$W/repo" -q
  timed capture arca-first "$ROOT/build/arca" redis backup --repo "$W/repo" --url "$REDIS_URL" -q --no-progress
  timed capture arca-repeat "$ROOT/build/arca" redis backup --repo "$W/repo" --url "$REDIS_URL" -q --no-progress
}
for run in $(seq "$RUNS"); do
  if [ $((run % 2)) = 1 ]; then redis_cli; arca_first; else arca_first; redis_cli; fi
done
RDB_BYTES=$(stat -c %s "$W/dump.rdb")
REPO_BYTES=$(du -sb "$W/repo" | cut -f1)

python3 - "$RESULTS" "$WORKDIR/results/redis-$(date +%Y%m%d-%H%M%S).json" "$CMDLINE" "$TOTAL" "$RDB_BYTES" "$REPO_BYTES" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
data = {}
for metric, tool, value in rows:
    data.setdefault(metric, {}).setdefault(tool, []).append(float(value))
keys, rdb, repo = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
json.dump({"command": sys.argv[3], "keys": keys, "rdb_bytes": rdb, "repo_bytes": repo, "results": data},
          open(sys.argv[2], "w"), indent=1)
med = lambda m, t: statistics.median(data[m][t])
print(f"Command: `{sys.argv[3]}` — {keys:,} keys, RDB {rdb / 2**20:.0f} MiB, "
      f"repository after two captures {repo / 2**20:.1f} MiB\n")
print("| tool | capture (s, median) | time / redis-cli | peak RSS (MiB) |")
print("|---|---|---|---|")
base = med("capture_s", "redis-cli")
for tool, label in [("redis-cli", "`redis-cli --rdb` (plain file)"), ("arca-first", "Arca, new repository"),
                    ("arca-repeat", "Arca, unchanged data again")]:
    t = med("capture_s", tool)
    print(f"| {label} | {t:.2f} | {t / base:.2f}× | {med('capture_rss_kib', tool) / 1024:.0f} |")
PY
