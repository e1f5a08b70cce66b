#!/usr/bin/env bash
# Installs what the build and tests need, builds, and runs the whole test suite (unit and
# end-to-end; the end-to-end tests start nothing outside their own temporary directories).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
