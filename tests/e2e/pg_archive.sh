#!/usr/bin/env bash
# PostgreSQL: batched archiving. Segments that pile up (archiving was failing) are pushed ahead
# by one wal-push, in parallel; the archiver's later calls for them return at once from their
# markers; the archive ends up continuous and a restore replays all of it.
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
q -c "ALTER SYSTEM SET archive_mode = on" -c "ALTER SYSTEM SET archive_command = 'false'"
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$T/pg/server.log" -w restart >/dev/null
pa pg backup --repo "$REPO" --password-file "$PW" -q
q -c "CREATE TABLE t (id int)"
for i in 1 2 3 4 5; do q -c "INSERT INTO t SELECT generate_series(1, 1000)" -c "SELECT pg_switch_wal()" >/dev/null; done
sleep 1
# Segments only: the base backup's history file (…backup.ready) waits too, and wal-push pushes
# only segments ahead (the archiver hands it over itself).
ready_segments() { ls "$PGDATA/pg_wal/archive_status" | grep -E '^[0-9A-F]{24}\.ready$' | sort; }
READY=$(ready_segments | wc -l)
[ "$READY" -ge 5 ] || fail "expected at least 5 segments waiting, found $READY"
ls "$PGDATA/pg_wal/archive_status" | grep -q '\.backup\.ready$' || fail "the backup history file is not waiting: the count below does not test skipping it"
FIRST=$(ready_segments | head -1); FIRST=${FIRST%.ready}
SECOND=$(ready_segments | sed -n 2p); SECOND=${SECOND%.ready}

step "one push stores the waiting segments ahead"
cd "$PGDATA"
pa pg wal-push --repo "$REPO" --password-file "$PW" --json "pg_wal/$FIRST" > "$T/p1.json"
python3 - "$T/p1.json" "$READY" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["result"] == "stored" and j["pushed_ahead"] == int(sys.argv[2]) - 1, j
PY
pa pg wal-push --repo "$REPO" --password-file "$PW" --json "pg_wal/$SECOND" > "$T/p2.json"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["result"] == "pushed_ahead", j' "$T/p2.json" \
  || fail "the second call did not use its marker"
cd "$T"

step "the archiver catches up through arca and the archive is continuous"
q -c "ALTER SYSTEM SET archive_command = '$PG_ARCA pg wal-push --repo $REPO --password-file $PW %p'" -c "SELECT pg_reload_conf()" >/dev/null
for i in $(seq 100); do [ "$(ls "$PGDATA/pg_wal/archive_status" | grep -c '\.ready$')" = 0 ] && break; sleep 0.1; done
[ "$(ls "$PGDATA/pg_wal/archive_status" | grep -c '\.ready$')" = 0 ] || fail "segments still waiting to be archived"
[ -z "$(find "$PGDATA/pg_wal/arca-pushed" -type f)" ] || fail "markers left behind: $(find "$PGDATA/pg_wal/arca-pushed" -type f)"
pa pg check --repo "$REPO" --password-file "$PW" > "$T/check.out" || { cat "$T/check.out"; fail "gaps in the archive"; }
"$SERVERS/postgres.sh" stop "$T/pg"
P=$(free_port)
a pg restore --repo "$REPO" --password-file "$PW" --to "$T/r/data" --start --port "$P" --no-archive -q
[ "$(qp "$P" -c "SELECT count(*) FROM t")" = 5000 ] || fail "restore lacks rows: $(qp "$P" -c "SELECT count(*) FROM t")"
stop_restored "$T/r/data"
echo "PASS"
