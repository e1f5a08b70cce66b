#!/usr/bin/env bash
# With every index object deleted, stats still counts the stored data (read from the packs'
# headers) and warns that the index is incomplete, instead of "0 B in 0 blobs" (issue 17 t1
# finding 8).
source "$(dirname "$0")/lib.sh"
init_repo "$REPO"
mkdir -p "$T/src"
head -c 2000000 /dev/urandom > "$T/src/f"
a backup --repo "$REPO" "$T/src" -q
a stats --repo "$REPO" --json > "$T/before.json"
rm "$REPO"/index/*
a stats --repo "$REPO" --json > "$T/after.json" 2> "$T/err"
cat "$T/err"
for k in data_blobs unique_bytes unique_stored_bytes; do
  [ "$(json_field "$T/before.json" "['$k']")" = "$(json_field "$T/after.json" "['$k']")" ] ||
    fail "$k differs without the index: $(json_field "$T/before.json" "['$k']") vs $(json_field "$T/after.json" "['$k']")"
done
err_contains "repair index"
echo PASS
