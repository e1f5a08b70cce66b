#!/usr/bin/env bash
# A needed blob that fails authentication in a pack prune wants to repack: prune keeps that pack
# as it is, prunes the rest, and says which pack, blobs and files, and what to run (exit 12)
# instead of stopping for ever with a bare error (issue 17 t1 finding 7).
source "$(dirname "$0")/lib.sh"
init_repo "$REPO"
mkdir -p "$T/src"
for f in a1 a2 a3; do head -c 300000 /dev/urandom > "$T/src/$f"; done
a backup --repo "$REPO" "$T/src" -q
rm "$T/src/a3"
a backup --repo "$REPO" "$T/src" -q
first=$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
a forget --repo "$REPO" "$first" --yes -q
pack=$(cd "$REPO" && ls data/*/*)
[ "$(echo "$pack" | wc -l)" = 1 ] || fail "test premise: one data pack"
flip_byte "$REPO/$pack" 1000
meta_before=$(ls "$REPO"/meta/*/* | wc -l)

step "prune keeps the damaged pack, prunes the rest, reports and exits 12"
expect_exit 12 a prune --repo "$REPO" --grace 0
cat "$T/.stdout" "$T/err"
err_contains "$pack"
err_contains "not repacked, not deleted"
err_contains "needed by snapshot"
err_contains "file 'src/a"
err_contains "arca check --read-data"
[ -e "$REPO/$pack" ] || fail "prune deleted the damaged pack"
[ "$(ls "$REPO"/meta/*/* | wc -l)" -lt "$meta_before" ] || fail "prune did not go on with the other packs"

step "the intact files still restore; a second prune says the same"
latest=$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
set +e; a restore --repo "$REPO" "$latest" --target "$T/out" -q 2>/dev/null; set -e
n=0
for f in a1 a2; do cmp -s "$T/src/$f" "$T/out/src/$f" && n=$((n + 1)); done
[ "$n" = 1 ] || fail "expected exactly one intact file restored, got $n"
expect_exit 12 a prune --repo "$REPO" --grace 0 -q
err_contains "not repacked, not deleted"
echo PASS
