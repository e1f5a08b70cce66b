#!/usr/bin/env bash
# How the chunk size parameters trade deduplication against speed and index size, on the
# benchmark data set: for each average size (min = avg/2, max = 4 × avg), an initial backup,
# then a backup after `make-data.py --mutate` (~5% changed). Reports medians of --runs.
#
#   bench/chunk-params.sh [--size-mib N] [--runs N] [--workdir DIR] [--avg-kib "256 512 1024 2048"]
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
SIZE_MIB=1024; RUNS=3; WORKDIR=$BENCH_DIR/work; AVGS="256 512 1024 2048"
while [ $# -gt 0 ]; do
  case $1 in
    --size-mib) SIZE_MIB=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    --avg-kib) AVGS=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
ARCA=$ROOT/build/arca
export ARCA_PASSWORD=bench
DATA=$WORKDIR/chunk-data
mkdir -p "$WORKDIR"
python3 "$BENCH_DIR/make-data.py" "$WORKDIR/dataset-$SIZE_MIB-s42" --size-mib "$SIZE_MIB" >&2
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "| avg chunk | initial backup (s) | stored after initial (MiB) | added by 5% mutation (MiB) | blobs | index bytes |"
echo "|---:|---:|---:|---:|---:|---:|"
for avg in $AVGS; do
  : > "$WORKDIR/t"; : > "$WORKDIR/s"; : > "$WORKDIR/m"
  for run in $(seq 1 "$RUNS"); do
    rm -rf "$DATA" "$WORKDIR/chunk-repo"
    cp -a "$WORKDIR/dataset-$SIZE_MIB-s42" "$DATA"
    "$ARCA" init --repo "$WORKDIR/chunk-repo" -q --chunk-min $((avg / 2)) --chunk-avg "$avg" --chunk-max $((avg * 4))
    s=$(date +%s.%N)
    "$ARCA" backup --repo "$WORKDIR/chunk-repo" "$DATA" -q
    python3 -c "print($(date +%s.%N) - $s)" >> "$WORKDIR/t"
    "$ARCA" stats --repo "$WORKDIR/chunk-repo" --json > "$WORKDIR/st1.json"
    python3 -c "import json; print(json.load(open('$WORKDIR/st1.json'))['unique_stored_bytes']/2**20)" >> "$WORKDIR/s"
    python3 "$BENCH_DIR/make-data.py" "$DATA" --mutate > /dev/null 2>&1
    "$ARCA" backup --repo "$WORKDIR/chunk-repo" "$DATA" --json > "$WORKDIR/b2.json"
    python3 -c "import json; print(json.load(open('$WORKDIR/b2.json'))['stats']['stored_added']/2**20)" >> "$WORKDIR/m"
  done
  blobs=$(python3 -c "import json; print(json.load(open('$WORKDIR/st1.json'))['data_blobs'])")
  idx=$(python3 -c "import json; print(json.load(open('$WORKDIR/st1.json'))['index_memory_bytes'])")
  printf '| %s KiB | %.2f | %.1f | %.1f | %s | %s |\n' "$avg" "$(median < "$WORKDIR/t")" "$(median < "$WORKDIR/s")" \
    "$(median < "$WORKDIR/m")" "$blobs" "$idx"
done
rm -rf "$DATA" "$WORKDIR/chunk-repo"
