#!/usr/bin/env bash
# Messages an operator acts on (issue 18, review of the future-dated points work, low items):
# forget --help says what --keep-within counts from; pg restore --target with a time points to
# --time; a --time ahead of the clock is warned about; ARCA_ALLOW_CORE_DUMPS accepts 1/yes/true
# and warns about other values. None of these needs a PostgreSQL server.
source "$(dirname "$0")/lib.sh"
init_repo
PW=$ARCA_PASSWORD

step "forget --help: --keep-within counts from the newest point that is not future-dated"
a forget --help > "$T/help"
tr -s ' \n' ' ' < "$T/help" | grep -q "newest recovery point that is not future-dated" ||
  { cat "$T/help"; fail "forget --help does not say what --keep-within counts from"; }

step "pg restore --target with a time says to use --time"
expect_exit 2 a pg restore --repo "$REPO" --to "$T/pg" --target "2026-12-07 01:00:00+00"
err_contains "expected 'latest' or 'immediate'; to recover to that time use --time '2026-12-07 01:00:00+00'"
expect_exit 2 a pg restore --repo "$REPO" --to "$T/pg" --target 0/3000060
err_contains "use --time, --lsn, --xid or --restore-point"

step "pg restore --time in 2099 warns that it is ahead of the clock (and still goes on: no base backup here)"
a pg restore --repo "$REPO" --to "$T/pg" --time "2099-01-01 00:00:00+00" 2> "$T/err" && fail "restored from an empty repository"
err_contains "warning: --time 2099-01-01 00:00:00+00 is ahead of this machine's clock"
err_contains "replays to the end of the archive"
a pg restore --repo "$REPO" --to "$T/pg" --time "2020-01-01 00:00:00+00" 2> "$T/err" || true
grep -q "ahead of this machine's clock" "$T/err" && fail "a past --time was warned about: $(cat "$T/err")"

step "ARCA_ALLOW_CORE_DUMPS: yes and true allow core dumps, other values are warned about"
for v in yes TRUE 1; do
  (ulimit -c unlimited; ARCA_ALLOW_CORE_DUMPS=$v a snapshots --repo "$REPO" -q \
    --password-command "grep 'Max core' /proc/\$PPID/limits > $T/limits; echo $PW") > /dev/null 2> "$T/err"
  read -r _ _ _ _ soft _ < "$T/limits"
  [ "$soft" = unlimited ] || fail "ARCA_ALLOW_CORE_DUMPS=$v did not keep core dumps: $(cat "$T/limits")"
  [ -s "$T/err" ] && fail "ARCA_ALLOW_CORE_DUMPS=$v: unexpected stderr: $(cat "$T/err")"
done
(ulimit -c unlimited; ARCA_ALLOW_CORE_DUMPS=please a snapshots --repo "$REPO" -q \
  --password-command "grep 'Max core' /proc/\$PPID/limits > $T/limits; echo $PW") > /dev/null 2> "$T/err"
read -r _ _ _ _ soft _ < "$T/limits"
[ "$soft" = 0 ] || fail "ARCA_ALLOW_CORE_DUMPS=please allowed core dumps"
err_contains "warning: ARCA_ALLOW_CORE_DUMPS=please is not 1, yes or true"
ARCA_ALLOW_CORE_DUMPS=0 a snapshots --repo "$REPO" -q > /dev/null 2> "$T/err"
[ -s "$T/err" ] && fail "ARCA_ALLOW_CORE_DUMPS=0: unexpected stderr: $(cat "$T/err")"
echo "OK"
