#!/usr/bin/env bash
# Builds the fuzz targets (scripts/sanitize.sh build: build-san/) and runs each for a while, two at
# a time (docs/security.md, "Fuzzing and sanitizers"). Usage:
#   scripts/fuzz.sh [--seconds N] [--no-build] [TARGET...]     (default: every target, 10 s each)
# New inputs are kept in build-san/fuzz/corpus/<target>/, findings in build-san/fuzz/crashes/<target>/
# (the output names each reproducer and how to replay it); logs in build-san/fuzz/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=10 build=1 targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift ;;
    --no-build) build=0 ;;
    -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1' (see scripts/fuzz.sh --help)" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
if [ ${#targets[@]} = 0 ]; then
  for f in tests/fuzz/fuzz_*.cpp; do n=$(basename "$f" .cpp); targets+=("${n#fuzz_}"); done
fi
# A misspelled target is refused before a build of several minutes.
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/fuzz_$t.cpp" ] || { echo "fuzz.sh: no target '$t' (targets: $(cd tests/fuzz && ls fuzz_*.cpp | sed 's/^fuzz_//; s/\.cpp$//' | tr '\n' ' '))" >&2; exit 2; }
done
[ $build = 1 ] && scripts/sanitize.sh build
work=$PWD/build-san/fuzz
for t in "${targets[@]}"; do
  [ -x "$work/$t" ] || { echo "fuzz.sh: target '$t' is not built in $work" >&2; exit 2; }
done
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} tests/fuzz/run_target.sh "$work/{}" "$PWD/tests/fuzz/corpus/{}" "$work" "$seconds"
