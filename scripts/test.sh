#!/usr/bin/env bash
# Installs what the build and tests need, builds, and runs the whole test suite (unit,
# end-to-end and fuzzing; the end-to-end tests start nothing outside their own temporary directories).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The sanitizer build (clang, ASan + UBSan: build-san/, docs/security.md) runs the unit tests
# again and a short pass of every fuzz target (ctest tests fuzz_<target>).
./scripts/sanitize.sh build arca_unit_tests fuzz_targets
status=0
(cd build && ctest --output-on-failure -j"$(nproc)" "$@") || status=1
(cd build-san && ctest --output-on-failure -j"$(nproc)" "$@") || status=1
exit $status
