#!/usr/bin/env bash
# The sanitizer build (docs/security.md, "Fuzzing and sanitizers"): clang with AddressSanitizer and
# UndefinedBehaviorSanitizer (no recovery: a finding fails the test) in build-san/, which also
# holds the fuzz targets. Usage:
#   scripts/sanitize.sh build [TARGET...]       configure and build build-san/ (or those targets) only
#   scripts/sanitize.sh unit                    the unit tests
#   scripts/sanitize.sh e2e [pg] [redis] [kafka]  tests/e2e/test_*.sh (and pg_/redis_/kafka_*.sh)
#                                               against build-san/arca, two at a time
#   scripts/sanitize.sh all                     unit tests and every e2e suite above
# --no-build skips the build. A sanitizer report fails the run even when the test script itself
# passed (reports are collected from build-san/sanitizer-logs/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD san=$PWD/build-san

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
mode=${1:-all}
[ $# -gt 0 ] && shift
case $mode in
  -h | --help) usage; exit 0 ;;
  build | unit | e2e | all) ;;
  *) echo "sanitize.sh: unknown mode '$mode'" >&2; usage >&2; exit 2 ;;
esac
build=1 suites=(test) targets=()
[ "$mode" = build ] && targets=("$@") && set --
for a in "$@"; do
  case $a in
    --no-build) build=0 ;;
    pg | redis | kafka) suites+=("$a") ;;
    -h | --help) usage; exit 0 ;;
    *) echo "sanitize.sh: unknown argument '$a'" >&2; usage >&2; exit 2 ;;
  esac
done
[ "$mode" = all ] && suites=(test pg redis kafka)

if [ $build = 1 ] || [ "$mode" = build ]; then
  cmake -S . -B "$san" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DARCA_FUZZ=ON -DARCA_BENCH=OFF >/dev/null
  cmake --build "$san" -j"$(nproc)" ${targets[@]+--target "${targets[@]}"}
fi
[ "$mode" = build ] && exit 0

export UBSAN_OPTIONS=print_stacktrace=1
status=0
if [ "$mode" = unit ] || [ "$mode" = all ]; then
  echo "== unit tests under ASan + UBSan"
  "$san/tests/arca_unit_tests" --gtest_brief=1 || status=1
fi

if [ "$mode" = e2e ] || [ "$mode" = all ]; then
  logs=$san/sanitizer-logs out=$san/e2e-logs
  rm -rf "$logs" "$out"
  mkdir -p "$logs" "$out"
  scripts=()
  for s in "${suites[@]}"; do
    for f in "$root"/tests/e2e/"$s"_*.sh; do
      # Runs arca in a chroot without /proc, where the sanitizer runtime can neither read its
      # options nor stop threads for its exit check (docs/security.md).
      if [ "$(basename "$f")" = test_backup_root.sh ]; then echo "skip test_backup_root (chroot without /proc)"; continue; fi
      scripts+=("$f")
    done
  done
  echo "== ${#scripts[@]} end-to-end scripts against $san/arca (logs: $out)"
  export ARCA=$san/arca KAFKA_TOOL=${KAFKA_TOOL:-$root/build/tests/kafka_tool}
  # Reports go to files: an e2e script may expect a failure and would not notice one on stderr.
  # No leak checks (a leak in a process that exits is no hazard; the unit tests and fuzz targets
  # check leaks); core dump settings stay arca's own (test_secrets checks them).
  export ASAN_OPTIONS=log_path=$logs/asan:detect_leaks=0:disable_coredump=0
  export UBSAN_OPTIONS=print_stacktrace=1:log_path=$logs/ubsan
  printf '%s\n' "${scripts[@]}" | xargs -P 2 -I{} bash -c '
    n=$(basename {} .sh)
    if bash {} >"'"$out"'/$n.log" 2>&1; then echo "pass $n"; else echo "FAIL $n (see '"$out"'/$n.log)"; exit 1; fi' ||
    status=1
  if [ -n "$(ls -A "$logs")" ]; then
    echo "sanitizer reports:"
    for f in "$logs"/*; do echo "--- $f"; head -n 40 "$f"; done
    status=1
  fi
fi
[ $status = 0 ] && echo "sanitize.sh $mode: clean" || echo "sanitize.sh $mode: FAILED"
exit $status
