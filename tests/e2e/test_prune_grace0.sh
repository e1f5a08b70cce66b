#!/usr/bin/env bash
# `prune --grace 0` after a backup that started before a mark published a point needing marked
# packs (issue 17 A4): the dry run speaks in the conditional, also about the packs it keeps.
#
# Tested in-process, with the pausing backend instead of timing: an immediate prune and a backup
# never run together (tests/unit/test_prune_faults.cpp, PruneFaults.*CannotStartWhile*), and a
# crashed backup's registration is removed by prune --grace 0 and by unlock while a running one's
# is kept (tests/unit/test_writer_registrations.cpp).
source "$(dirname "$0")/lib.sh"
step "--dry-run speaks in the conditional, also about rescued packs"
R2=$T/repo2
init_repo "$R2" --pack-size 1
mkdir -p "$T/d2"; head -c 3000000 /dev/urandom > "$T/d2/x"
a backup --repo "$R2" "$T/d2" -q
# A backup that read the index before the mark reuses x and publishes after it: here its point
# is the forgotten one's object put back after the mark (no race, no timing).
first=$(a snapshots --repo "$R2" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
cp "$R2/snapshots/$first" "$T/late-point"
a forget --repo "$R2" "$first" --yes -q
a prune --repo "$R2" --grace 1h -q   # marks x's packs: no recovery point needs them now
ls "$R2/prune" | grep -q . || fail "no pack was marked (test premise)"
cp "$T/late-point" "$R2/snapshots/$first"
a prune --repo "$R2" --grace 0 --dry-run > "$T/dry.out"
cat "$T/dry.out"
grep -q "would be kept" "$T/dry.out" || fail "the dry run did not report the rescue in the conditional"
grep -Eq "^(deleted|marked|repacked) | were kept" "$T/dry.out" && fail "the dry run speaks in the past tense"
a prune --repo "$R2" --grace 0 -q
a check --repo "$R2" --read-data -q
echo PASS
