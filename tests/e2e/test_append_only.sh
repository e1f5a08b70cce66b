#!/usr/bin/env bash
# Append-only keys (for the hosts being backed up): they back up, list, restore and check, but
# can never delete or replace anything — forget, prune, key removal, lock release all refuse
# with exit 15 and say which key and what to use instead. Editing the key file's role makes the
# key unusable, not stronger. Runs on S3 too (s3_append_only.sh).
source "$(dirname "$0")/lib.sh"
init_repo
SRC=$T/src
make_tree "$SRC"
echo "host-secret" > "$T/host-pw"
a key add --repo "$REPO" --append-only --new-password-file "$T/host-pw" --kdf-memory 8192 --kdf-time 1 -q
a key list --repo "$REPO" --json | python3 -c '
import json, sys
ks = json.load(sys.stdin)
assert sorted(k["role"] for k in ks) == ["append-only", "full"], ks'
host() { ARCA_PASSWORD=host-secret "$ARCA" "$@"; }

step "the append-only key backs up, restores and checks"
host backup --repo "$REPO" "$SRC" -q
echo more > "$SRC/more.txt"
host backup --repo "$REPO" "$SRC" -q
host restore --repo "$REPO" latest --target "$T/out" -q
same_tree "$SRC" "$T/out/src"
host check --repo "$REPO" -q
first=$(host snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:8])')

step "it cannot delete anything"
expect_exit 15 host forget --repo "$REPO" "$first" --yes
err_contains "append-only key"
expect_exit 15 host forget --repo "$REPO" --keep-last 1
err_contains "operator's key"
host forget --repo "$REPO" --keep-last 1 --dry-run -q   # looking is allowed
expect_exit 15 host prune --repo "$REPO" --grace 0
err_contains "append-only key"
full_id=$(a key list --repo "$REPO" --json | python3 -c 'import json,sys; print([k["id"] for k in json.load(sys.stdin) if k["role"]=="full"][0][:8])')
expect_exit 15 host key remove --repo "$REPO" "$full_id"
err_contains "cannot delete keys/"
expect_exit 15 host key add --repo "$REPO" --new-password-file "$T/host-pw" --kdf-memory 8192 --kdf-time 1
err_contains "only add append-only keys"
expect_exit 15 host key passwd --repo "$REPO" --new-password-file "$T/host-pw" --kdf-memory 8192 --kdf-time 1
[ "$(a key list --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
  fail "a refused key command still added a key"
expect_exit 15 host mfa enroll --repo "$REPO"
[ "$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
  fail "a recovery point went missing"

step "it can add protection: governance locks, not compliance ones"
host lock add --repo "$REPO" "$first" --mode governance --for 1d -q
expect_exit 15 host lock add --repo "$REPO" "$first" --mode compliance --for 1d
err_contains "cannot add compliance locks"
expect_exit 15 a forget --repo "$REPO" "$first" --yes
err_contains "governance lock"

step "the operator's key deletes as usual"
a forget --repo "$REPO" --keep-last 1 -q
a prune --repo "$REPO" --grace 0 -q
a check --repo "$REPO" -q

if [[ $REPO != s3:* ]]; then
  step "editing the role in the key file makes the key useless, not stronger"
  for f in "$REPO"/keys/*; do
    grep -q '"append-only"' "$f" || continue
    chmod u+w "$f"
    sed -i 's/"role": "append-only",//; s/,\s*"role": "append-only"//' "$f"
    grep -q append-only "$f" && fail "could not edit the key file"
  done
  expect_exit 11 host snapshots --repo "$REPO"
fi
echo PASS
