#!/usr/bin/env bash
# Installs every Debian package Arca's build, tests and benchmarks need (idempotent), then builds.
# Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config
  libssl-dev libcurl4-openssl-dev libpq-dev libzstd-dev libargon2-dev nlohmann-json3-dev libcli11-dev
  libjemalloc-dev
  # arca server: configuration (YAML), the job catalog (SQLite), the HTTP API (cpp-httplib)
  libyaml-cpp-dev libsqlite3-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # clang with its sanitizer and libFuzzer runtimes: the sanitizer and fuzz build (build-san/)
  clang libclang-rt-14-dev
  attr libcap2-bin time util-linux procps zstd python3 curl openssl stunnel4
  # PostgreSQL for the pg tests (server, client tools, amcheck in contrib)
  postgresql-15 postgresql-contrib
  # Redis for the redis tests; librdkafka (build, and its mock cluster for the Kafka tests) and kcat
  redis-server redis-tools librdkafka-dev kcat
  # S3 servers for the tests (tests/servers/): OpenStack Swift's S3 API and Ceph radosgw
  swift-proxy swift-object swift-container swift-account python3-swift radosgw ceph-mon ceph-osd
  # arca server's tests: promtool and a real Prometheus and Alertmanager, an SMTP server (aiosmtpd)
  prometheus prometheus-alertmanager python3-aiosmtpd
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--no-build" ] && exit 0
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
