#!/usr/bin/env bash
# Prune benchmark: Arca vs restic on the same history, in the same run.
#
#   bench/prune.sh [--size-mib N] [--days N] [--runs N] [--workdir DIR]
#
# Each run: a fresh copy of the benchmark data set (make-data.py, seed 42); then DAYS times
# (default 30) `make-data.py --mutate --mutate-seed DAY` (~5% changed) followed by a backup into
# an Arca repository and into a restic repository (format 2, compression auto). Then, timed with
# /usr/bin/time -v (wall, peak RSS), each tool forgets the older half and prunes:
#   arca    arca forget --keep-last DAYS/2 && arca prune --grace 0      (defaults: --max-unused 25%)
#   restic  restic forget --keep-last DAYS/2 --prune                      (defaults: --max-unused 5%)
# and the space reclaimed (du -sb before/after). Arca's prune runs with --grace 0 (delete at once,
# as restic does under its exclusive lock; no backup runs during the benchmark). Both
# repositories are then checked (arca check --read-data, restic check --read-data) and the
# newest snapshot of each restored and compared with the data (diff -r). The tools' order
# alternates by run. Markdown with medians and ratios goes to stdout, progress to stderr.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CMDLINE="bench/prune.sh${*:+ $*}"
SIZE_MIB=1024 DAYS=30 RUNS=3 WORKDIR=$BENCH_DIR/work
while [ $# -gt 0 ]; do
  case $1 in
    --size-mib) SIZE_MIB=$2; shift 2 ;;
    --days) DAYS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "prune.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
for tool in restic time; do
  command -v "$([ $tool = time ] && echo /usr/bin/time || echo $tool)" >/dev/null ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $tool >/dev/null
done
mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
PRISTINE=$WORKDIR/dataset-$SIZE_MIB-s42
W=$WORKDIR/prune
RAW=$W/results.jsonl
rm -rf "$W"; mkdir -p "$W/bin"
install -m 755 "$ROOT/build/arca" "$W/bin/arca"
ARCA=$W/bin/arca
export ARCA_PASSWORD=bench-arca RESTIC_PASSWORD=bench-restic RESTIC_CACHE_DIR=$W/restic-cache
unset ARCA_REPOSITORY ARCA_PASSWORD_FILE ARCA_KEY_FILE RESTIC_REPOSITORY RESTIC_PASSWORD_FILE RESTIC_COMPRESSION
python3 "$BENCH_DIR/make-data.py" "$PRISTINE" --size-mib "$SIZE_MIB" >&2
KEEP=$((DAYS / 2))

timed() {  # RUN TOOL COMMAND...: wall time and peak RSS of the command
  local run=$1 tool=$2; shift 2
  local t0=$EPOCHREALTIME
  /usr/bin/time -v -o "$W/time" "$@" > "$W/$tool.log" 2>&1 || { tail -20 "$W/$tool.log" >&2; exit 1; }
  local t1=$EPOCHREALTIME
  local rss=$(grep 'Maximum resident' "$W/time" | awk '{print $NF}')
  echo "$run $tool $t0 $t1 $rss"
}

for run in $(seq 1 "$RUNS"); do
  rm -rf "$W/data" "$W/arca-repo" "$W/restic-repo" "$W/restic-cache" "$W/out"
  cp -a "$PRISTINE" "$W/data"
  "$ARCA" init --repo "$W/arca-repo" -q
  restic -r "$W/restic-repo" init --repository-version 2 -q
  log "run $run/$RUNS: building $DAYS days of history"
  for day in $(seq 1 "$DAYS"); do
    python3 "$BENCH_DIR/make-data.py" "$W/data" --mutate --mutate-seed "$day" >&2 2>/dev/null
    "$ARCA" backup --repo "$W/arca-repo" "$W/data" -q --no-progress
    restic -r "$W/restic-repo" backup -q "$W/data" >/dev/null
  done
  a_before=$(du -sb "$W/arca-repo" | cut -f1); r_before=$(du -sb "$W/restic-repo" | cut -f1)
  order="arca restic"; [ $((run % 2)) = 0 ] && order="restic arca"
  for tool in $order; do
    log "run $run/$RUNS: $tool forget + prune"
    if [ $tool = arca ]; then
      line=$(timed "$run" arca sh -c '"$1" forget --repo "$2" --keep-last "$3" -q && "$1" prune --repo "$2" --grace 0 --no-progress' _ \
        "$ARCA" "$W/arca-repo" "$KEEP")
    else
      line=$(timed "$run" restic restic -r "$W/restic-repo" forget --keep-last "$KEEP" --prune)
    fi
    read -r _ _ t0 t1 rss <<< "$line"
    repo=$W/$tool-repo; before=$([ $tool = arca ] && echo "$a_before" || echo "$r_before")
    after=$(du -sb "$repo" | cut -f1)
    printf '{"run": %d, "tool": "%s", "wall_s": %s, "rss_kib": %s, "before": %s, "after": %s}\n' \
      "$run" "$tool" "$(awk "BEGIN {print $t1 - $t0}")" "$rss" "$before" "$after" >> "$RAW"
  done
  log "run $run/$RUNS: verifying both repositories"
  "$ARCA" check --repo "$W/arca-repo" --read-data -q
  restic -r "$W/restic-repo" check --read-data -q >/dev/null
  "$ARCA" restore --repo "$W/arca-repo" latest --target "$W/out/arca" -q
  restic -r "$W/restic-repo" restore latest --target "$W/out/restic" -q
  diff -r -q --no-dereference "$W/data" "$W/out/arca/data" >/dev/null || { echo "arca restore differs" >&2; exit 1; }
  diff -r -q --no-dereference "$W/data" "$W/out/restic$W/data" >/dev/null || { echo "restic restore differs" >&2; exit 1; }
  rm -rf "$W/out"
done

python3 - "$RAW" "$CMDLINE" "$SIZE_MIB" "$DAYS" "$(restic version | head -1)" <<'P'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cmd, size, days, rv = sys.argv[2:]
med = lambda tool, f: statistics.median(f(r) for r in rows if r["tool"] == tool)
wall = {t: med(t, lambda r: r["wall_s"]) for t in ("arca", "restic")}
rss = {t: med(t, lambda r: r["rss_kib"]) / 1024 for t in ("arca", "restic")}
freed = {t: med(t, lambda r: r["before"] - r["after"]) / 2**20 for t in ("arca", "restic")}
before = {t: med(t, lambda r: r["before"]) / 2**20 for t in ("arca", "restic")}
after = {t: med(t, lambda r: r["after"]) / 2**20 for t in ("arca", "restic")}
n = len(rows) // 2
print(f"`{cmd}` — {size} MiB data set, {days} daily mutations, forget the older half, prune; "
      f"medians of {n} runs; {rv}\n")
print("| tool | forget + prune (s) | peak RSS (MiB) | repository before (MiB) | after (MiB) | reclaimed (MiB) |")
print("|---|---:|---:|---:|---:|---:|")
for t in ("arca", "restic"):
    print(f"| {t} | {wall[t]:.2f} | {rss[t]:.0f} | {before[t]:.0f} | {after[t]:.0f} | {freed[t]:.0f} |")
print(f"\nrestic time / arca time: **{wall['restic'] / wall['arca']:.2f}×**; "
      f"arca peak memory / restic: {rss['arca'] / rss['restic']:.2f}×")
print("\nper run (s): " + "; ".join(f"run {r['run']} {r['tool']} {r['wall_s']:.2f}" for r in rows))
P
