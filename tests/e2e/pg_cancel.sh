#!/usr/bin/env bash
# PostgreSQL: SIGTERM cancels `pg verify` while it restores into its scratch directory: exit 130
# within the limit, the scratch directory removed, and the next verify works.
# (`pg backup` honours a cancel token too, but its command does not run as a CliJob yet: add its
# step here when it does. A cancel once the scratch server is up took 2.6 s in an unoptimized
# build, above the limit: not asserted until that phase is found and made faster.)
source "$(dirname "$0")/lib_pg.sh"

LIMIT=${CANCEL_LIMIT_S:-1.5}
now() { date +%s.%N; }
# cancel_run NAME SIGNAL READY-TEST -- COMMAND... (as in test_cancel.sh)
cancel_run() {
  local name=$1 sig=$2 ready=$3
  shift 4
  set +e
  "$@" > "$T/.stdout" 2> "$T/err" &
  local pid=$! waited=0
  until eval "$ready"; do
    sleep 0.02
    waited=$((waited + 1))
    if ! kill -0 $pid 2>/dev/null; then
      wait $pid; cat "$T/err" >&2
      fail "$name ended before it could be cancelled (test inconclusive: more data needed)"
    fi
    [ $waited -lt 3000 ] || { kill -9 $pid; fail "$name never got busy"; }
  done
  local t0 t1 rc latency
  t0=$(now); kill -"$sig" $pid; wait $pid; rc=$?; t1=$(now)
  set -e
  latency=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
  echo "cancel latency $name: $latency s (SIG$sig)"
  [ $rc = 130 ] || { cat "$T/err" >&2; fail "$name: exit $rc after SIG$sig, expected 130"; }
  grep -Eqi "cancelled|interrupted" "$T/err" || { cat "$T/err" >&2; fail "$name: no 'cancelled' message"; }
  python3 -c "import sys; sys.exit(0 if $latency <= $LIMIT else 1)" || fail "$name took $latency s to stop (limit $LIMIT s)"
}

start_pg
pg_init_repo
# About 250 MB of text that neither compresses nor deduplicates much.
q -c "CREATE TABLE filler (id int PRIMARY KEY, body text)" \
  -c "ALTER TABLE filler ALTER body SET STORAGE EXTERNAL" \
  -c "INSERT INTO filler SELECT g, array_to_string(ARRAY(SELECT md5(random()::text || g || i) FROM generate_series(1, 32) i), '') FROM generate_series(1, 250000) g"

pa pg backup --repo "$REPO" --password-file "$PW" -q

step "pg verify: SIGTERM while it restores; scratch directory removed, no server left"
mkdir -p "$T/scratch"; chmod 755 "$T/scratch"
cancel_run "pg verify" TERM 'compgen -G "$T/scratch/arca-verify-*/data/base" > /dev/null' -- \
  "$ARCA" pg verify --repo "$REPO" --password-file "$PW" --scratch "$T/scratch" --no-progress
[ -z "$(ls -A "$T/scratch")" ] || { ls -la "$T/scratch"/* >&2; fail "pg verify: scratch directory left"; }

a pg verify --repo "$REPO" --password-file "$PW" -q

echo PASS
