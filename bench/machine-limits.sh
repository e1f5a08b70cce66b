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
for f in text random; do
  for l in 1 3; do
    # zstd redraws its line with \r; the last drawn line holds the final compression/decompression speeds.
    echo "level $l $f: $(zstd -b$l "$tmp/$f" 2>&1 | tr '\r' '\n' | grep 'MB/s,' | tail -1 | sed 's/^ *.-//')"
  done
done
