#!/usr/bin/env bash
# Runs one fuzz target for a while (docs/security.md, "Fuzzing and sanitizers"):
#   run_target.sh BINARY SEED_DIR WORK_DIR SECONDS
# It starts from the checked-in seeds and the inputs earlier runs kept (WORK_DIR/corpus/<target>/,
# where new ones go; the seeds are never modified). A crash, leak, sanitizer report, timeout or
# out-of-memory is written to WORK_DIR/crashes/<target>/ and fails the run, naming the reproducer.
set -uo pipefail
bin=$1 seeds=$2 work=$3 secs=$4
name=$(basename "$bin")
corpus=$work/corpus/$name crashes=$work/crashes/$name log=$work/logs/$name.log
mkdir -p "$corpus" "$crashes" "$work/logs"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$crashes/" "$corpus" "$seeds" >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ $rc -ne 0 ]; then
  tail -n 80 "$log"
  echo "fuzz $name: FAILED (exit $rc) after ${runs:-?} runs; full log: $log"
  for f in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log"); do
    echo "fuzz $name: reproducer $f"
    echo "fuzz $name: replay with: $bin $f"
  done
  exit 1
fi
echo "fuzz $name: ok, ${runs:-?} runs in ${secs}s, corpus $(ls "$corpus" | wc -l) new + $(ls "$seeds" | wc -l) seeds"
