#!/usr/bin/env bash
# check --read-data-subset n/t is restic's: fixed groups, so 1/t … t/t read every pack exactly
# once (the weekly cron `$(date +%u)/7`); N% stays a random sample; --read-data with a subset is
# refused instead of silently reading only the subset.
source "$(dirname "$0")/lib.sh"
init_repo
mkdir -p "$T/src"
for i in $(seq 1 12); do head -c 20000 /dev/urandom > "$T/src/f$i"; a backup --repo "$REPO" "$T/src" -q; done
read_count() { a check --repo "$REPO" --json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packs_read"])'; }
all=$(read_count --read-data)
[ "$all" -ge 20 ] || fail "expected at least 20 packs, got $all"

step "n/t groups cover every pack exactly once, the same packs in every run"
sum=0
for n in 1 2 3 4 5 6 7; do
  c=$(read_count --read-data-subset "$n/7")
  [ "$c" = "$(read_count --read-data-subset "$n/7")" ] || fail "group $n/7 differs between runs"
  sum=$((sum + c))
done
[ "$sum" = "$all" ] || fail "groups 1/7..7/7 read $sum packs, the repository has $all"

step "N% is a sample; malformed subsets and --read-data with a subset are usage errors"
c=$(read_count --read-data-subset 50%)
[ "$c" -ge $((all / 2)) ] && [ "$c" -lt "$all" ] || fail "50% read $c of $all packs"
for bad in 0/7 8/7 1/0 abc 1.5/3 10%x; do
  expect_exit 2 a check --repo "$REPO" --read-data-subset "$bad"
done
expect_exit 2 a check --repo "$REPO" --read-data --read-data-subset 1/7
err_contains "give one of them"
echo PASS
