#!/usr/bin/env bash
# The machine's own limits, to read the micro-benchmarks against.
set -euo pipefail
echo "== openssl speed (single core)"
openssl speed -seconds 2 -bytes 1048576 -evp aes-256-gcm 2>/dev/null | tail -1
openssl speed -seconds 2 -bytes 1048576 -evp sha256 2>/dev/null | tail -1
echo "== zstd -b (single core, levels 1 and 3, on this project's sources and random data)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat "$(dirname "$0")"/../src/*/*.cpp "$(dirname "$0")"/../src/*/*/*.cpp > "$tmp/text"
head -c 8000000 /dev/urandom > "$tmp/random"
zstd -b1 -e3 "$tmp/text" 2>&1 | tail -3
zstd -b1 -e3 "$tmp/random" 2>&1 | tail -3
