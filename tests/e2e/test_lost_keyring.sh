#!/usr/bin/env bash
# A recovery point unreadable only because its keyring entry is missing or damaged is not damage:
# every command names the entry and says to restore it, nothing deletes such points or their
# packs (repair snapshots keeps them, repair index and prune refuse), and putting the entry back
# brings everything back.
source "$(dirname "$0")/lib.sh"

init_repo
mkdir -p "$T/d1" "$T/d2"
head -c 200000 /dev/urandom > "$T/d1/f"
head -c 200000 /dev/urandom > "$T/d2/g"
a backup --repo "$REPO" "$T/d1" -q
a key rotate --repo "$REPO" -q
a backup --repo "$REPO" "$T/d2" -q
a backup --repo "$REPO" "$T/d1" -q            # version 2 point whose data is in version 1 packs
snaps_before=$(ls "$REPO/snapshots" | sort)
index_before=$(ls "$REPO/index" | sort)
packs_before=$(find "$REPO/data" -type f | sort)

step "keyring/00000002 moved away: messages name it and say to restore it"
mv "$REPO/keyring/00000002" "$T/kr2"
a snapshots --repo "$REPO" 2>"$T/err" >/dev/null || true
err_contains "keyring/00000002 is missing"
err_contains "restore keyring/00000002 first"
grep -q "arca forget\|repair snapshots' removes" "$T/err" && fail "snapshots suggests removing a recoverable point"
a snapshots --repo "$REPO" -q 2>"$T/err" >/dev/null
[ "$(grep -c '^warning: ' "$T/err")" = 2 ] || { cat "$T/err"; fail "snapshots -q: not one warning per skipped point"; }
expect_exit 12 a prune --repo "$REPO" --grace 0
err_contains "keyring/00000002"
err_contains "stopped before changing anything"
grep -q "run 'arca repair snapshots'" "$T/err" && fail "prune points at repair snapshots"

v2point=
for s in $snaps_before; do
  a cat --repo "$REPO" snapshot "${s:0:8}" >/dev/null 2>&1 || { v2point=$s; break; }
done
[ -n "$v2point" ] || fail "no unreadable point found"
expect_exit 12 a forget --repo "$REPO" "${v2point:0:8}" --yes
err_contains "keyring/00000002"
err_contains "nothing was removed"

expect_exit 12 a check --repo "$REPO"
err_contains "Restore keyring/00000002 first"
err_contains "lost-key-version 2"

step "repair snapshots keeps those points (exit 12) and says why; repair index and prune refuse"
expect_exit 12 a repair snapshots --repo "$REPO" --yes
err_contains "kept"
err_contains "keyring/00000002"
[ "$(ls "$REPO/snapshots" | sort)" = "$snaps_before" ] || fail "repair snapshots removed a recoverable point"
expect_exit 12 a repair index --repo "$REPO"
err_contains "keyring/00000002"
[ "$(ls "$REPO/index" | sort)" = "$index_before" ] || fail "repair index changed the index"
expect_exit 12 a prune --repo "$REPO" --grace 0
[ "$(find "$REPO/data" -type f | sort)" = "$packs_before" ] || fail "prune deleted packs"

step "put back, everything restores and check passes"
mv "$T/kr2" "$REPO/keyring/00000002"
a check --repo "$REPO" --read-data -q
for s in $snaps_before; do
  a restore --repo "$REPO" "${s:0:8}" --target "$T/out-$s" -q
done
a prune --repo "$REPO" --grace 0 -q

step "keyring/00000001 damaged: said 'damaged', and a version 2 point whose data is in version 1 packs names it"
cp "$REPO/keyring/00000001" "$T/kr1"
truncate -s 30 "$REPO/keyring/00000001"
latest=$(a snapshots --repo "$REPO" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
expect_exit 12 a prune --repo "$REPO" --grace 0
err_contains "keyring/00000001 is damaged"
rc=0; a restore --repo "$REPO" "${latest:0:8}" --target "$T/out-v1" 2>"$T/err" >/dev/null || rc=$?
[ "$rc" != 0 ] || fail "restore without the key version succeeded?"
err_contains "keyring/00000001 is damaged"
grep -q "is missing from the repository" "$T/err" && fail "restore calls data of a damaged keyring entry missing"
grep -q "unknown data key" "$T/err" && fail "still 'unknown data key'"
mv "$T/kr1" "$REPO/keyring/00000001"
a restore --repo "$REPO" "${latest:0:8}" --target "$T/out-v1b" -q
cmp "$T/d1/f" "$T/out-v1b/d1/f" || fail "restored file differs"

step "a key version truly lost: --lost-key-version clears what it sealed, then prune and check run"
rm "$REPO/keyring/00000002"
a repair snapshots --repo "$REPO" --yes --lost-key-version 2 -q
expect_exit 3 a repair index --repo "$REPO" --lost-key-version 2
a prune --repo "$REPO" --grace 0 -q
a check --repo "$REPO" -q
a restore --repo "$REPO" latest --target "$T/out-last" -q
cmp "$T/d1/f" "$T/out-last/d1/f" || fail "the version 1 point does not restore"
echo "PASS"
