#!/usr/bin/env bash
# Key management: several keys open one repository; passwd; remove; key files; data key rotation
# keeps old data readable without rewriting it.
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/src"; head -c 200000 /dev/urandom > "$T/src/one.bin"
init_repo
a backup --repo "$REPO" "$T/src" -q
cp "$T/src/one.bin" "$T/one.v1"

step "add a second password"
echo second-pass > "$T/pw2"
a key add --repo "$REPO" --new-password-file "$T/pw2" --kdf-memory 8192 --kdf-time 1 -q
[ "$(a key list --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] || fail "2 keys expected"
ARCA_PASSWORD=second-pass a snapshots --repo "$REPO" -q > /dev/null

step "key file"
a key add --repo "$REPO" --new-key-file "$T/keyfile" --generate -q
[ "$(stat -c %a "$T/keyfile")" = 600 ] || fail "key file mode"
(unset ARCA_PASSWORD; a snapshots --repo "$REPO" --key-file "$T/keyfile" > /dev/null)
head -c 64 /dev/urandom > "$T/otherkey"
(unset ARCA_PASSWORD; expect_exit 11 a snapshots --repo "$REPO" --key-file "$T/otherkey")

step "remove: not the key in use, then another one"
cur=$(a key list --repo "$REPO" --json | python3 -c 'import json,sys; print([k["id"] for k in json.load(sys.stdin) if k["current"]][0])')
expect_exit 15 a key remove --repo "$REPO" "${cur:0:8}"
err_contains "key in use"
ARCA_PASSWORD=second-pass a key remove --repo "$REPO" "${cur:0:8}" -q
expect_exit 11 a snapshots --repo "$REPO"

step "passwd replaces the key in use"
echo third-pass > "$T/pw3"
ARCA_PASSWORD=second-pass a key passwd --repo "$REPO" --new-password-file "$T/pw3" --kdf-memory 8192 --kdf-time 1 -q
ARCA_PASSWORD=second-pass expect_exit 11 a snapshots --repo "$REPO"
export ARCA_PASSWORD=third-pass
a snapshots --repo "$REPO" -q > /dev/null

step "rotate: new data uses version 2, old data still restores, nothing rewritten"
before=$(find "$REPO/data" -type f | sort | xargs sha256sum)
a key rotate --repo "$REPO" -q
[ "$(a cat --repo "$REPO" config | python3 -c 'import json,sys; print(json.load(sys.stdin)["current_data_key_version"])')" = 2 ] || fail "version 2 expected"
head -c 200000 /dev/urandom > "$T/src/two.bin"
a backup --repo "$REPO" "$T/src" -q
after=$(find "$REPO/data" -type f | sort | xargs sha256sum)
echo "$before" | while read -r line; do echo "$after" | grep -qF "$line" || fail "rotation rewrote $line"; done
# The new pack's blobs carry key version 2 in their envelope (byte 1..4, little endian).
newpack=$(comm -13 <(echo "$before" | awk '{print $2}') <(echo "$after" | awk '{print $2}') | head -1)
[ "$(od -An -tu4 -j1 -N4 "$newpack" | tr -d ' ')" = 2 ] || fail "new data not sealed with key version 2"
a restore --repo "$REPO" latest --target "$T/out" --verify -q
cmp "$T/out/src/one.bin" "$T/one.v1" && cmp "$T/out/src/two.bin" "$T/src/two.bin" || fail "restore after rotation"
a check --repo "$REPO" --read-data -q
echo PASS
