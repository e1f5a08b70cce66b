#!/usr/bin/env bash
# Arca vs kcat archiving a Kafka topic and producing it back, same cluster, same data, same run.
#
#   bench/kafka.sh [--records N] [--value-bytes N] [--partitions N] [--runs N] [--workdir DIR]
#
# The cluster is librdkafka's mock (tests/tools/kafka_tool mock; the real protocol over TCP on
# loopback; 3 brokers). The topic gets N records (keys, headers, CreateTime timestamps) spread
# over the partitions (the mock keeps ~5 MiB per partition, so 128 partitions comfortably hold 1M records of
# ~200 B). Both consumers get the same prefetch settings (queued.min.messages=200000).
#   archive: kcat -C … -e -f '%p %o %T %k %s' to a file, vs arca kafka backup into a fresh
#            repository (all fields, headers included; compressed, encrypted, indexed);
#   restore: kcat -P -K from that file into a fresh topic (keys only, default partitioner), vs
#            arca kafka restore into a fresh topic (same partitions, keys, headers, timestamps,
#            idempotent producer, offset map).
# Measured per run, alternating the order: wall time, records/s, MB/s of key+value bytes, peak RSS.
# Prints Markdown with medians and ratios; raw numbers go to WORKDIR/results/kafka-DATE.json.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CMDLINE="bench/kafka.sh${*:+ $*}"
RECORDS=1000000 VBYTES=150 PARTS=128 RUNS=3 WORKDIR=$BENCH_DIR/work
while [ $# -gt 0 ]; do
  case $1 in
    --records) RECORDS=$2; shift 2 ;;
    --value-bytes) VBYTES=$2; shift 2 ;;
    --partitions) PARTS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "kafka.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
mkdir -p "$WORKDIR/results"
WORKDIR=$(cd "$WORKDIR" && pwd)
W=$WORKDIR/kafka
rm -rf "$W"; mkdir -p "$W"
KT=$ROOT/build/tests/kafka_tool
ARCA=$ROOT/build/arca
export ARCA_PASSWORD=bench-password
RESULTS=$W/results.txt; : > "$RESULTS"
record() { echo "$1 $2 $3" >> "$RESULTS"; log "$1 $2 = $3"; }

targets=()
for r in $(seq "$RUNS"); do targets+=(-t "arca$r:$PARTS:1" -t "kcat$r:$PARTS:1"); done
"$KT" mock -b 3 -f "$W/bs" -t "bench:$PARTS:1" "${targets[@]}" 2> "$W/mock.log" &
MOCK=$!
trap 'kill $MOCK 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$W/bs" ] && break; sleep 0.05; done
BS=$(cat "$W/bs")
log "producing $RECORDS records"
"$KT" produce "$BS" bench "$RECORDS" 0 "$VBYTES"
"$KT" dump "$BS" bench > "$W/source.txt"
N=$(wc -l < "$W/source.txt")
[ "$N" = "$RECORDS" ] || { echo "the mock kept $N of $RECORDS records: use more partitions" >&2; exit 1; }

timed() {  # timed METRIC TOOL command…
  local metric=$1 tool=$2; shift 2
  /usr/bin/time -f '%e %M' -o "$W/time" "$@"
  read -r secs rss < "$W/time"
  record "${metric}_s" "$tool" "$secs"
  record "${metric}_rss_kib" "$tool" "$rss"
}
PREFETCH=(-X queued.min.messages=200000)
kcat_archive() {
  timed archive kcat sh -c "kcat -C -b '$BS' -t bench -o beginning -e -q ${PREFETCH[*]} -f '%p\t%o\t%T\t%k\t%s\n' > '$W/kcat.out'"
  local n; n=$(wc -l < "$W/kcat.out")
  [ "$n" = "$RECORDS" ] || { echo "kcat archived $n records" >&2; exit 1; }
}
arca_archive() {
  rm -rf "$W/repo"; "$ARCA" init --repo "$W/repo" -q
  timed archive arca "$ARCA" kafka backup --repo "$W/repo" --brokers "$BS" --topics bench --name bench -q --no-progress \
    --admin-timeout 200
}
kcat_restore() {
  cut -f4,5 "$W/kcat.out" > "$W/kcat.in"
  timed restore kcat kcat -P -b "$BS" -t "kcat$1" -K '\t' -l "$W/kcat.in"
}
arca_restore() {
  timed restore arca "$ARCA" kafka restore latest --repo "$W/repo" --brokers "$BS" --topic bench --to-topic "arca$1" \
    --no-groups -q --no-progress
}
for run in $(seq "$RUNS"); do
  if [ $((run % 2)) = 1 ]; then kcat_archive; arca_archive; kcat_restore "$run"; arca_restore "$run"
  else arca_archive; kcat_archive; arca_restore "$run"; kcat_restore "$run"; fi
done
# Check that Arca's restore is the source, record for record (partition, timestamp, key, value, headers).
"$KT" dump "$BS" "arca$RUNS" > "$W/restored.txt"
cmp -s "$W/source.txt" "$W/restored.txt" || { echo "Arca's restored topic differs from the source" >&2; exit 1; }
BYTES=$(awk -F'\t' '{b += length($4) + length($5)} END {print b}' "$W/kcat.out")
REPO_BYTES=$(du -sb "$W/repo" | cut -f1)

python3 - "$RESULTS" "$WORKDIR/results/kafka-$(date +%Y%m%d-%H%M%S).json" "$CMDLINE" "$RECORDS" "$BYTES" "$REPO_BYTES" "$PARTS" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
data = {}
for metric, tool, value in rows:
    data.setdefault(metric, {}).setdefault(tool, []).append(float(value))
n, b, repo, parts = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
json.dump({"command": sys.argv[3], "records": n, "key_value_bytes": b, "repo_bytes": repo, "results": data},
          open(sys.argv[2], "w"), indent=1)
med = lambda m, t: statistics.median(data[m][t])
print(f"Command: `{sys.argv[3]}` — {n:,} records in {parts} partitions, {b / 1e6:.0f} MB of keys and values; "
      f"Arca's repository {repo / 1e6:.0f} MB\n")
print("| phase | tool | time (s, median) | records/s | MB/s | peak RSS (MiB) | Arca speed / kcat |")
print("|---|---|---|---|---|---|---|")
for phase in ("archive", "restore"):
    k, a = med(f"{phase}_s", "kcat"), med(f"{phase}_s", "arca")
    for tool, t in (("kcat", k), ("Arca", a)):
        rss = med(f"{phase}_rss_kib", tool.lower()) / 1024
        ratio = f"{k / a:.2f}×" if tool == "Arca" else ""
        print(f"| {phase} | {tool} | {t:.2f} | {n / t:,.0f} | {b / 1e6 / t:.1f} | {rss:.0f} | {ratio} |")
PY
