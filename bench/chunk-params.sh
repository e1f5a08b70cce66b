#!/usr/bin/env bash
# How the repository parameters trade stored size against speed, on the benchmark data set:
# for each average chunk size (min = avg/2, max = 4 × avg; default zstd level), or with --levels
# for each zstd level (default chunk sizes), an initial backup, then a backup after
# `make-data.py --mutate` (~5% changed). Reports medians of --runs.
#
#   bench/chunk-params.sh [--size-mib N] [--runs N] [--workdir DIR] [--avg-kib "256 512 1024 2048"]
#                         [--levels "1 2 3"]
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
SIZE_MIB=1024; RUNS=3; WORKDIR=$BENCH_DIR/work; AVGS="256 512 1024 2048"; LEVELS=""
while [ $# -gt 0 ]; do
  case $1 in
    --size-mib) SIZE_MIB=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    --avg-kib) AVGS=$2; shift 2 ;;
    --levels) LEVELS=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -z "${LEVELS// }" ] || [ "$AVGS" = "256 512 1024 2048" ] || { echo "chunk-params.sh: --levels and --avg-kib exclude each other" >&2; exit 2; }
ARCA=$ROOT/build/arca
export ARCA_PASSWORD=bench
DATA=$WORKDIR/chunk-data
mkdir -p "$WORKDIR"
python3 "$BENCH_DIR/make-data.py" "$WORKDIR/dataset-$SIZE_MIB-s42" --size-mib "$SIZE_MIB" >&2
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# measure LABEL INIT-OPTION…: one table row
measure() {
  local label=$1; shift
  : > "$WORKDIR/t"; : > "$WORKDIR/c"; : > "$WORKDIR/s"; : > "$WORKDIR/m"
  for run in $(seq 1 "$RUNS"); do
    rm -rf "$DATA" "$WORKDIR/chunk-repo"
    cp -a "$WORKDIR/dataset-$SIZE_MIB-s42" "$DATA"
    "$ARCA" init --repo "$WORKDIR/chunk-repo" -q "$@"
    /usr/bin/time -f '%e %U %S' -o "$WORKDIR/time" "$ARCA" backup --repo "$WORKDIR/chunk-repo" "$DATA" -q
    read -r secs user sys < "$WORKDIR/time"
    echo "$secs" >> "$WORKDIR/t"
    python3 -c "print($user + $sys)" >> "$WORKDIR/c"
    "$ARCA" stats --repo "$WORKDIR/chunk-repo" --json > "$WORKDIR/st1.json"
    python3 -c "import json; print(json.load(open('$WORKDIR/st1.json'))['unique_stored_bytes']/2**20)" >> "$WORKDIR/s"
    python3 "$BENCH_DIR/make-data.py" "$DATA" --mutate > /dev/null 2>&1
    "$ARCA" backup --repo "$WORKDIR/chunk-repo" "$DATA" --json > "$WORKDIR/b2.json"
    python3 -c "import json; print(json.load(open('$WORKDIR/b2.json'))['stats']['stored_added']/2**20)" >> "$WORKDIR/m"
  done
  blobs=$(python3 -c "import json; print(json.load(open('$WORKDIR/st1.json'))['data_blobs'])")
  idx=$(python3 -c "import json; print(json.load(open('$WORKDIR/st1.json'))['index_memory_bytes'])")
  printf '| %s | %.2f | %.2f | %.1f | %.1f | %s | %s |\n' "$label" "$(median < "$WORKDIR/t")" "$(median < "$WORKDIR/c")" \
    "$(median < "$WORKDIR/s")" "$(median < "$WORKDIR/m")" "$blobs" "$idx"
}
first=$([ -n "$LEVELS" ] && echo "zstd level" || echo "avg chunk")
echo "| $first | initial backup (s) | its CPU (s) | stored after initial (MiB) | added by 5% mutation (MiB) | blobs | index bytes |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
if [ -n "$LEVELS" ]; then
  for level in $LEVELS; do measure "$level" --compression "$level"; done
else
  for avg in $AVGS; do measure "$avg KiB" --chunk-min $((avg / 2)) --chunk-avg "$avg" --chunk-max $((avg * 4)); done
fi
rm -rf "$DATA" "$WORKDIR/chunk-repo"
