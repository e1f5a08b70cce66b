#!/usr/bin/env bash
# Arca vs restic on S3: backup and restore of the benchmark data set to a loopback Ceph radosgw
# (tests/servers/ceph.sh, in-memory OSD), same data, same server, same run.
#
#   bench/s3.sh [--size-mib N] [--runs N] [--workdir DIR] [--tools arca,restic]
#
# Each tool keeps its defaults (arca: zstd 3, 8 connections; restic: repository v2, compression
# auto, 5 connections). Every run uses new buckets and times, per tool, with /usr/bin/time -v:
# init, initial backup, full restore of that snapshot (checked with diff -r; a difference aborts).
# Each restore goes to a freshly made ext4 filesystem (a sparse image on a loop device with
# direct I/O, so that it behaves like a disk; needs root):
# restoring right after deleting the previous restore makes ext4's inode allocator scan its
# recently-deleted inodes, which cost up to 2/3 of a restore's time here and varied 3x between
# runs (a quirk of the benchmark loop, not of restoring). Without root, a plain directory is used.
# Restores are timed until the data is durable: arca syncs before it returns, restic's restore
# is followed by `sync -f` on the target filesystem. The tools' order alternates. Prints Markdown with medians and ratios (restic / arca) and writes
# the raw numbers to WORKDIR/results/s3-DATE.json. The data set is the one bench/run.sh uses.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CMDLINE="bench/s3.sh${*:+ $*}"
SIZE_MIB=1024 RUNS=3 WORKDIR=$BENCH_DIR/work TOOLS=arca,restic
while [ $# -gt 0 ]; do
  case $1 in
    --size-mib) SIZE_MIB=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    --tools) TOOLS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "s3.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a TOOL_LIST <<<"$TOOLS"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
command -v restic >/dev/null || [[ $TOOLS != *restic* ]] || { echo "restic is not installed (apt-get install restic)" >&2; exit 1; }

mkdir -p "$WORKDIR/results"
WORKDIR=$(cd "$WORKDIR" && pwd)
DATA=$WORKDIR/dataset-$SIZE_MIB-s42
S3DIR=$WORKDIR/s3-server
OUT=$WORKDIR/s3-out
python3 "$BENCH_DIR/make-data.py" "$DATA" --size-mib "$SIZE_MIB" --seed 42 >&2
mkdir -p "$WORKDIR/bin" && cp "$ROOT/build/arca" "$WORKDIR/bin/arca"
ARCA=$WORKDIR/bin/arca

# A fresh server for every tool and run: radosgw with an in-memory OSD slows down as it fills,
# which would favour whichever tool measures first.
start_server() {
  "$ROOT/tests/servers/ceph.sh" stop "$S3DIR"
  CEPH_MEMSTORE_BYTES=$(( SIZE_MIB * 1024 * 1024 * 2 + (1 << 30) )) "$ROOT/tests/servers/ceph.sh" start "$S3DIR" >&2
  set -a; source "$S3DIR/env"; set +a
}
trap 'release_target; "$ROOT/tests/servers/ceph.sh" stop "$S3DIR"; rm -rf "$OUT"' EXIT
export ARCA_PASSWORD=bench RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$WORKDIR/restic-cache
RAW=$WORKDIR/results/s3-raw.jsonl
: > "$RAW"

IMG=$WORKDIR/restore.img
fresh_target() {  # an empty, newly made filesystem at $OUT/restore
  mkdir -p "$OUT/restore"
  [ "$(id -u)" = 0 ] || return 0
  rm -f "$IMG"; truncate -s $(( SIZE_MIB * 3 + 1024 ))M "$IMG"
  local dev
  if ! mkfs.ext4 -q -F "$IMG" || ! dev=$(losetup -f --show "$IMG"); then
    echo "note: no loop device, restoring into a directory" >&2; return 0
  fi
  # Direct I/O makes the loop device behave like a disk: a buffered one keeps every write a
  # second time in the page cache of the image file, and its flushes stall the writes queued
  # behind them, which no real restore target does.
  losetup --direct-io=on "$dev" 2>/dev/null || true
  [ "$(cat "/sys/block/${dev##*/}/loop/dio" 2>/dev/null)" = 1 ] || echo "note: $dev is buffered (no direct I/O)" >&2
  mount "$dev" "$OUT/restore" || echo "note: cannot mount $dev, restoring into a directory" >&2
  losetup -d "$dev" || true  # detaches itself when unmounted
}
release_target() {
  if mountpoint -q "$OUT/restore"; then umount "$OUT/restore" || echo "warning: cannot unmount $OUT/restore" >&2; fi
  rm -f "$IMG"
}

measure() {  # tool op run cmd...
  local tool=$1 op=$2 run=$3; shift 3
  /usr/bin/time -v -o "$OUT/time" "$@" > "$OUT/log" 2>&1 || { cat "$OUT/log" >&2; echo "$tool $op failed" >&2; exit 1; }
  python3 - "$OUT/time" "$tool" "$op" "$run" >> "$RAW" <<'PY'
import json, re, sys
t = open(sys.argv[1]).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", t).group(1).split(":")
secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
print(json.dumps({"tool": sys.argv[2], "op": sys.argv[3], "run": int(sys.argv[4]), "seconds": secs, "rss_kib": rss}))
PY
}

for run in $(seq 1 "$RUNS"); do
  order=("${TOOL_LIST[@]}")
  [ $((run % 2)) = 0 ] && order=($(printf '%s\n' "${TOOL_LIST[@]}" | tac))
  for tool in "${order[@]}"; do
    rm -rf "$OUT" "$RESTIC_CACHE_DIR"; mkdir -p "$OUT"
    start_server
    loc=$ARCA_TEST_S3_ENDPOINT/bench-$tool-$run
    log "run $run: $tool"
    case $tool in
      arca)
        "$ARCA" init -r "s3:$loc" --create-bucket -q
        measure arca backup "$run" "$ARCA" backup -r "s3:$loc" "$DATA" -q --no-progress
        fresh_target
        measure arca restore "$run" "$ARCA" restore -r "s3:$loc" latest --target "$OUT/restore" -q --no-progress ;;
      restic)
        restic -r "s3:$loc" init -q
        measure restic backup "$run" restic -r "s3:$loc" backup "$DATA" -q
        fresh_target
        # arca restore returns once the data is on disk (syncfs); restic leaves it dirty in the
        # page cache, so its restore is timed up to the same point: followed by sync -f.
        measure restic restore "$run" sh -c 'restic -r "$1" restore latest --target "$2" -q && sync -f "$2"' _ \
          "s3:$loc" "$OUT/restore" ;;
    esac
    got=$OUT/restore$DATA                                 # restic restores the absolute path
    [ "$tool" = arca ] && got=$OUT/restore/$(basename "$DATA")  # arca the backed-up directory by name
    diff -r -q --no-dereference "$DATA" "$got" > /dev/null || { echo "$tool restore differs from the data" >&2; exit 1; }
    release_target
  done
done

python3 - "$RAW" "$WORKDIR/results/s3-$(date -u +%Y%m%dT%H%M%SZ).json" "$CMDLINE" "$SIZE_MIB" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for r in rows:
    med.setdefault((r["tool"], r["op"]), []).append(r)
out = {"command": sys.argv[3], "size_mib": int(sys.argv[4]), "raw": rows, "median": {}}
print(f"S3 (Ceph radosgw on loopback), {sys.argv[4]} MiB, medians of {max(len(v) for v in med.values())} runs: `{sys.argv[3]}`\n")
print("| operation | tool | seconds | MiB/s | peak RSS MiB |\n|---|---|---|---|---|")
for (tool, op), rs in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    s = statistics.median(r["seconds"] for r in rs)
    rss = statistics.median(r["rss_kib"] for r in rs) / 1024
    out["median"][f"{tool}/{op}"] = {"seconds": s, "rss_mib": rss, "runs": [r["seconds"] for r in rs]}
    print(f"| {op} | {tool} | {s:.2f} | {int(sys.argv[4]) / s:.0f} | {rss:.0f} |")
for op in ("backup", "restore"):
    a, r = out["median"].get(f"arca/{op}"), out["median"].get(f"restic/{op}")
    if a and r:
        print(f"\n{op}: arca is {r['seconds'] / a['seconds']:.2f}x restic's throughput, peak RSS {a['rss_mib']:.0f} vs {r['rss_mib']:.0f} MiB")
json.dump(out, open(sys.argv[2], "w"), indent=1)
PY
