#!/usr/bin/env bash
# End-to-end benchmark: Arca vs restic vs borg on the same generated data set, in the same run.
#
#   bench/run.sh [--size-mib N] [--runs N] [--workdir DIR] [--seed N] [--tools arca,restic,borg]
#                [--arca PATH] [--borg-encryption MODE] [--json-out FILE] [--keep]
#
# All repositories are encrypted and compressed:
#   arca    defaults (zstd 3, Argon2id with the default --kdf-memory)
#   restic  repository format 2 (`init --repository-version 2`), --compression auto (the default)
#   borg    `init -e repokey` (repokey-blake2 on CPUs without SHA extensions), `create --compression zstd,3`
#
# Each run uses fresh repositories and a fresh copy of the data set (always the same absolute
# path), and times, for every tool, with /usr/bin/time -v (wall time, peak RSS, CPU time):
#   init, initial backup, no-change backup, backup after `make-data.py --mutate` (~5% changed),
#   full restore of the latest snapshot, timed until the data is durable (arca syncs before it
#   returns; restic's and borg's restores are followed by `sync -f`), verified with `diff -r` against the data; a difference
#   aborts the benchmark), check reading all data, listing snapshots; and the repository size (du -sb).
# The tools' order rotates from run to run. The page cache is not dropped (warm cache for all).
#
# Markdown with the medians over --runs goes to stdout, progress to stderr; the raw measurements,
# medians and ratios go to a JSON file (default WORKDIR/results/bench-DATE.json, with a .md copy).
# The generated data set is cached in WORKDIR/dataset-SIZE-sSEED and reused while make-data.py
# is unchanged, and results accumulate in WORKDIR/results; everything else in WORKDIR (the data
# copy, repositories, caches, restores, logs of the last invocation, a private copy of the arca
# binary) is recreated on every invocation, so an interrupted run leaves nothing that matters.
# Repositories and the mutated data are deleted at the end unless --keep is given.
# Estimated 3-5 minutes per run at the default 1 GiB on 2 cores (extrapolated, not measured).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CMDLINE="bench/run.sh${*:+ $*}"

SIZE_MIB=1024
RUNS=3
WORKDIR=$BENCH_DIR/work
SEED=42
TOOLS=arca,restic,borg
ARCA=$ROOT/build/arca
BORG_ENC=auto
JSON_OUT=
KEEP=0

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "run.sh: error: $*" >&2; exit 1; }
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
  case $1 in
    --size-mib) need_arg "$@"; SIZE_MIB=$2; shift 2 ;;
    --runs) need_arg "$@"; RUNS=$2; shift 2 ;;
    --workdir) need_arg "$@"; WORKDIR=$2; shift 2 ;;
    --seed) need_arg "$@"; SEED=$2; shift 2 ;;
    --tools) need_arg "$@"; TOOLS=$2; shift 2 ;;
    --arca) need_arg "$@"; ARCA=$2; shift 2 ;;
    --borg-encryption) need_arg "$@"; BORG_ENC=$2; shift 2 ;;
    --json-out) need_arg "$@"; JSON_OUT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $SIZE_MIB =~ ^[0-9]+$ ]] && [ "$SIZE_MIB" -ge 8 ] || die "--size-mib must be an integer >= 8"
[[ $RUNS =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 1 ] || die "--runs must be a positive integer"
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer"
IFS=, read -r -a TOOL_LIST <<<"$TOOLS"
[ ${#TOOL_LIST[@]} -ge 1 ] || die "--tools is empty"
for t in "${TOOL_LIST[@]}"; do
  case $t in arca|restic|borg) ;; *) die "unknown tool '$t' in --tools (arca, restic, borg)" ;; esac
done

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# --- prerequisites -------------------------------------------------------------------------------
ensure_time() {
  if dpkg-query -W -f='${Status}' time 2>/dev/null | grep -q "install ok installed" && [ -x /usr/bin/time ]; then
    return
  fi
  log "installing the Debian package 'time' (for /usr/bin/time -v)"
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time >/dev/null
  [ -x /usr/bin/time ] || die "could not install /usr/bin/time"
}
ensure_time
for t in "${TOOL_LIST[@]}"; do
  case $t in
    arca) [ -x "$ARCA" ] || die "no arca binary at $ARCA (build it: cmake --build $ROOT/build -j2)" ;;
    restic) command -v restic >/dev/null || die "restic is not installed (apt-get install restic)" ;;
    borg) command -v borg >/dev/null || die "borg is not installed (apt-get install borgbackup)" ;;
  esac
done
command -v python3 >/dev/null || die "python3 is required"

if [ "$BORG_ENC" = auto ]; then
  # borg's own advice: HMAC-SHA256 ids are faster with SHA hardware, BLAKE2b without.
  if grep -qw sha_ni /proc/cpuinfo 2>/dev/null; then BORG_ENC=repokey; else BORG_ENC=repokey-blake2; fi
fi

# --- work directory --------------------------------------------------------------------------------
mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
PRISTINE=$WORKDIR/dataset-$SIZE_MIB-s$SEED
DATA=$WORKDIR/data          # the path every tool backs up (same absolute path in every run)
REPOS=$WORKDIR/repos
RESTORE=$WORKDIR/restore
CACHE=$WORKDIR/cache
LOGS=$WORKDIR/logs
RESULTS=$WORKDIR/results
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
START_UTC=$(date -u '+%Y-%m-%d %H:%M')
[ -n "$JSON_OUT" ] || JSON_OUT=$RESULTS/bench-$STAMP.json
RAW=$LOGS/measurements.jsonl
ARCA_SRC=$(cd "$(dirname "$ARCA")" && pwd)/$(basename "$ARCA")

clean_state() { rm -rf "$DATA" "$REPOS" "$RESTORE" "$CACHE"; }
clean_state
rm -rf "$LOGS"
mkdir -p "$REPOS" "$RESTORE" "$CACHE" "$LOGS" "$RESULTS" "$(dirname "$JSON_OUT")"
: >"$RAW"
if [[ " ${TOOL_LIST[*]} " == *" arca "* ]]; then
  # Benchmark a private copy, so a rebuild during the benchmark cannot break or change it.
  mkdir -p "$WORKDIR/bin"
  cp "$ARCA_SRC" "$WORKDIR/bin/arca.tmp" && mv -f "$WORKDIR/bin/arca.tmp" "$WORKDIR/bin/arca"
  ARCA=$WORKDIR/bin/arca
  "$ARCA" --version >/dev/null || die "$ARCA_SRC does not run"
fi
# The source revision at the start (the binary is assumed to be built from it), and the binary's hash.
git_rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || git_rev="$git_rev+dirty"
arca_sha=$( [ -x "$ARCA" ] && sha256sum "$ARCA" | cut -c1-12 || echo none)

# Isolated, non-interactive environments for the three tools.
export ARCA_PASSWORD=bench-password-arca
unset ARCA_REPOSITORY ARCA_PASSWORD_FILE ARCA_KEY_FILE
export RESTIC_PASSWORD=bench-password-restic RESTIC_CACHE_DIR=$CACHE/restic
unset RESTIC_REPOSITORY RESTIC_PASSWORD_FILE RESTIC_PASSWORD_COMMAND RESTIC_COMPRESSION RESTIC_PACK_SIZE
export BORG_PASSPHRASE=bench-password-borg BORG_BASE_DIR=$CACHE/borg
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=no
export BORG_DISPLAY_PASSPHRASE=no BORG_CHECK_I_KNOW_WHAT_I_AM_DOING=NO BORG_DELETE_I_KNOW_WHAT_I_AM_DOING=NO
unset BORG_REPO BORG_PASSCOMMAND BORG_PASSPHRASE_FD BORG_KEY_FILE

tree_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d\n", s}'; }
tree_files() { find "$1" -type f | wc -l; }
warm_cache() { find "$1" -type f -exec cat {} + >/dev/null; }

# --- the data set ------------------------------------------------------------------------------------
log "data set: $SIZE_MIB MiB, seed $SEED, in $PRISTINE"
python3 "$BENCH_DIR/make-data.py" "$PRISTINE" --size-mib "$SIZE_MIB" --seed "$SEED" >&2
DATA_BYTES=$(tree_bytes "$PRISTINE")
DATA_FILES=$(tree_files "$PRISTINE")

# --- measuring ----------------------------------------------------------------------------------------
RUN=0
fail() {
  echo >&2
  echo "run.sh: FAILED: $*" >&2
  exit 1
}

# measure TOOL PHASE BYTES [--cwd DIR] -- COMMAND...: run COMMAND under /usr/bin/time -v, record
# wall time, peak RSS and CPU time; abort the benchmark if it fails.
measure() {
  local tool=$1 phase=$2 bytes=$3 cwd=.
  shift 3
  if [ "$1" = --cwd ]; then cwd=$2; shift 2; fi
  [ "$1" = -- ] && shift
  local base=$LOGS/run$RUN-$tool-$phase
  printf '%q ' "$@" >"$base.cmd"
  log "run $RUN/$RUNS: $tool $phase"
  local t0=$EPOCHREALTIME rc=0
  (cd "$cwd" && exec /usr/bin/time -v -o "$base.time" "$@") >"$base.log" 2>&1 || rc=$?
  local t1=$EPOCHREALTIME
  if [ $rc -ne 0 ]; then
    echo "--- $base.log (last 30 lines) ---" >&2
    tail -n 30 "$base.log" >&2
    fail "$tool $phase exited with status $rc: $(cat "$base.cmd")"
  fi
  python3 - "$base.time" "$t0" "$t1" "$RUN" "$tool" "$phase" "$bytes" "$base.log" >>"$RAW" <<'EOF'
import json, sys
tf, t0, t1, run, tool, phase, nbytes, logf = sys.argv[1:]
v = {}
for line in open(tf):
    k, _, val = line.strip().rpartition(": ")
    v[k] = val
print(json.dumps({"run": int(run), "tool": tool, "phase": phase, "bytes": int(nbytes),
                  "wall_s": round(float(t1) - float(t0), 4),
                  "user_s": float(v["User time (seconds)"]), "sys_s": float(v["System time (seconds)"]),
                  "max_rss_kib": int(v["Maximum resident set size (kbytes)"]), "log": logf}))
EOF
}

record_size() {  # TOOL WHAT PATH
  local b=0
  [ -e "$3" ] && b=$(du -sb "$3" | cut -f1)
  printf '{"run": %d, "tool": "%s", "phase": "%s", "bytes": %d}\n' "$RUN" "$1" "$2" "$b" >>"$RAW"
}

tool_init() {
  local repo=$REPOS/$1
  case $1 in
    arca) measure arca init 0 -- "$ARCA" init --repo "$repo" ;;
    restic) measure restic init 0 -- restic -r "$repo" init --repository-version 2 ;;
    borg) measure borg init 0 -- borg init -e "$BORG_ENC" "$repo" ;;
  esac
}

tool_backup() {  # TOOL PHASE BYTES ARCHIVE-NAME
  local repo=$REPOS/$1
  case $1 in
    arca) measure arca "$2" "$3" -- "$ARCA" backup --repo "$repo" --no-progress "$DATA" ;;
    restic) measure restic "$2" "$3" -- restic -r "$repo" backup --compression auto "$DATA" ;;
    borg) measure borg "$2" "$3" -- borg create --stats --compression zstd,3 "$repo::$4" "$DATA" ;;
  esac
}

# Restores the latest snapshot into a fresh directory; prints the directory that mirrors $DATA.
tool_restore() {  # TOOL BYTES
  local repo=$REPOS/$1 target=$RESTORE/$1
  rm -rf "$target"
  mkdir -p "$target"
  case $1 in
    arca) measure arca restore "$2" -- "$ARCA" restore --repo "$repo" --no-progress latest --target "$target"
          RESTORED=$target/$(basename "$DATA") ;;
    # arca returns once the restored data is on disk (syncfs); restic and borg leave it dirty in
    # the page cache, so their restores are timed up to the same point: followed by sync -f.
    restic) measure restic restore "$2" -- sh -c 'restic -r "$1" restore latest --target "$2" && sync -f "$2"' _ \
              "$repo" "$target"
          RESTORED=$target$DATA ;;
    borg) measure borg restore "$2" --cwd "$target" -- sh -c 'borg extract "$1" && sync -f .' _ "$repo::mutated"
          RESTORED=$target$DATA ;;
  esac
}

tool_check() {
  local repo=$REPOS/$1
  case $1 in
    arca) measure arca check "$2" -- "$ARCA" check --repo "$repo" --no-progress --read-data ;;
    restic) measure restic check "$2" -- restic -r "$repo" check --read-data ;;
    borg) measure borg check "$2" -- borg check --verify-data "$repo" ;;
  esac
}

tool_list() {
  local repo=$REPOS/$1
  case $1 in
    arca) measure arca snapshots 0 -- "$ARCA" snapshots --repo "$repo" ;;
    restic) measure restic snapshots 0 -- restic -r "$repo" snapshots ;;
    borg) measure borg snapshots 0 -- borg list "$repo" ;;
  esac
}

verify_restore() {  # TOOL RESTORED-DIR
  local out=$LOGS/run$RUN-$1-verify.log
  if [ ! -d "$2" ]; then
    fail "$1 restore: expected the restored data at $2, but it does not exist (see $RESTORE/$1)"
  fi
  if ! diff -r -q --no-dereference "$DATA" "$2" >"$out" 2>&1; then
    echo "--- differences between $DATA and $2 (first 20) ---" >&2
    head -n 20 "$out" >&2
    fail "$1 restore differs from the data set ($(wc -l <"$out") differences, see $out)"
  fi
  log "run $RUN/$RUNS: $1 restore verified: identical to the data set"
}

# --- runs ------------------------------------------------------------------------------------------------
for ((RUN = 1; RUN <= RUNS; RUN++)); do
  clean_state
  CLEANED_AT=$(date +%s)
  mkdir -p "$REPOS" "$RESTORE" "$CACHE"
  cp -a "$PRISTINE" "$DATA"
  warm_cache "$DATA"
  # Rotate the order so no tool is always first (or last) on a freshly copied data set.
  ORDER=()
  for ((i = 0; i < ${#TOOL_LIST[@]}; i++)); do
    ORDER+=("${TOOL_LIST[$(((i + RUN - 1) % ${#TOOL_LIST[@]}))]}")
  done
  log "run $RUN/$RUNS: order ${ORDER[*]}"

  for t in "${ORDER[@]}"; do
    tool_init "$t"
    tool_backup "$t" backup-initial "$DATA_BYTES" initial
    record_size "$t" size-initial "$REPOS/$t"
  done
  for t in "${ORDER[@]}"; do tool_backup "$t" backup-nochange "$DATA_BYTES" nochange; done

  python3 "$BENCH_DIR/make-data.py" "$DATA" --mutate >&2
  MUT_BYTES=$(tree_bytes "$DATA")
  MUT_FILES=$(tree_files "$DATA")
  warm_cache "$DATA"
  for t in "${ORDER[@]}"; do tool_backup "$t" backup-mutated "$MUT_BYTES" mutated; done
  for t in "${ORDER[@]}"; do
    record_size "$t" size-final "$REPOS/$t"
    case $t in  # arca keeps no local cache
      restic) record_size "$t" cache-size "$CACHE/restic" ;;
      borg) record_size "$t" cache-size "$CACHE/borg" ;;
    esac
  done

  # ext4 skips inodes deleted in the last ~30 s when allocating new ones (recently_deleted), which
  # makes creating thousands of files right after clean_state several seconds slower for whichever
  # tool restores first. Let that window pass so every restore starts from the same state.
  while [ $(( $(date +%s) - CLEANED_AT )) -lt 35 ]; do sleep 1; done
  for t in "${ORDER[@]}"; do
    tool_restore "$t" "$MUT_BYTES"
    verify_restore "$t" "$RESTORED"
    # Restored trees stay until the next run: deleting thousands of files right before the next
    # tool's restore makes ext4's inode allocator (recently_deleted) slow that restore by seconds.
  done
  for t in "${ORDER[@]}"; do tool_check "$t" "$MUT_BYTES"; done
  for t in "${ORDER[@]}"; do tool_list "$t"; done
done

# --- report ------------------------------------------------------------------------------------------------
META=$LOGS/meta.json
B_CMDLINE=$CMDLINE B_STAMP=$START_UTC B_SIZE=$SIZE_MIB B_SEED=$SEED B_RUNS=$RUNS B_TOOLS=$TOOLS \
B_DATA_BYTES=$DATA_BYTES B_DATA_FILES=$DATA_FILES B_MUT_BYTES=$MUT_BYTES B_MUT_FILES=$MUT_FILES B_DATA=$DATA \
B_CPUS=$(nproc) B_CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') \
B_MEM=$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) B_KERNEL=$(uname -r) \
B_ARCA="$("$ARCA" --version 2>&1 | head -n1) (source $git_rev, binary sha256 $arca_sha)" \
B_RESTIC=$(command -v restic >/dev/null && restic version | head -n1) \
B_BORG=$(command -v borg >/dev/null && borg --version | head -n1) B_BORG_ENC=$BORG_ENC \
python3 - "$META" <<'EOF'
import json, os, sys
e = os.environ
json.dump({
    "command": e["B_CMDLINE"], "date_utc": e["B_STAMP"],
    "size_mib": int(e["B_SIZE"]), "seed": int(e["B_SEED"]), "runs": int(e["B_RUNS"]),
    "tools": e["B_TOOLS"].split(","),
    "data_bytes": int(e["B_DATA_BYTES"]), "data_files": int(e["B_DATA_FILES"]),
    "mutated_bytes": int(e["B_MUT_BYTES"]), "mutated_files": int(e["B_MUT_FILES"]),
    "data_path": e["B_DATA"],
    "machine": {"cpus": int(e["B_CPUS"]), "cpu": e["B_CPU"], "mem_mib": int(e["B_MEM"]), "kernel": e["B_KERNEL"]},
    "versions": {"arca": e["B_ARCA"], "restic": e["B_RESTIC"], "borg": e["B_BORG"]},
    "settings": {"arca": "defaults (zstd level 3, Argon2id with the default --kdf-memory)",
                 "restic": "init --repository-version 2, backup --compression auto",
                 "borg": "init -e %s, create --compression zstd,3" % e["B_BORG_ENC"]},
}, open(sys.argv[1], "w"), indent=2)
EOF
python3 "$BENCH_DIR/summarize.py" "$META" "$RAW" "$JSON_OUT" | tee "${JSON_OUT%.json}.md"
log "results: $JSON_OUT (and ${JSON_OUT%.json}.md); logs in $LOGS"

if [ $KEEP -eq 0 ]; then
  clean_state
else
  log "kept the repositories of the last run in $REPOS and the mutated data in $DATA"
fi
