#!/usr/bin/env bash
# PostgreSQL: `arca pg wal-stream` archives WAL continuously over a slot; the server is killed
# mid-stream and restarted, the stream reconnects and resumes without a gap, and a restore to
# the latest WAL has every committed row, including those committed just before the kill.
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
q -c "CREATE TABLE marks (id int PRIMARY KEY)"
pa pg backup --repo "$REPO" --password-file "$PW" -q

step "stream, then kill the server (-9) after committed inserts"
pa pg wal-stream --repo "$REPO" --password-file "$PW" --create-slot --flush-interval 0.3 --retry-interval 0.5 \
  2> "$T/stream.log" &
STREAM=$!
for i in $(seq 50); do grep -q "streaming WAL" "$T/stream.log" && break; sleep 0.1; done
for i in $(seq 1 30); do q -c "INSERT INTO marks VALUES ($i)"; done
sleep 1.2  # a few flush intervals
"$SERVERS/postgres.sh" kill "$T/pg"
sleep 1
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$T/pg/server.log" -w start >/dev/null

step "the stream reconnects and continues"
for i in $(seq 1 30); do q -c "INSERT INTO marks VALUES ($((i + 30)))"; done
for i in $(seq 100); do [ "$(grep -c "streaming WAL" "$T/stream.log")" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c "streaming WAL" "$T/stream.log")" -ge 2 ] || { cat "$T/stream.log"; fail "the stream did not reconnect"; }
sleep 1.2
pkill -TERM -f "^$T/arca pg wal-stream"
wait $STREAM || true
grep -q "^stopped: received" "$T/stream.log" || { cat "$T/stream.log"; fail "wal-stream did not stop cleanly"; }
grep -q "retrying" "$T/stream.log" || fail "the connection loss was not reported"

step "the archive is continuous and a latest restore has all 60 rows"
pa pg check --repo "$REPO" --password-file "$PW" > "$T/check.out" || { cat "$T/check.out"; fail "gaps after the stream"; }
"$SERVERS/postgres.sh" stop "$T/pg"
P=$(free_port)
a pg restore --repo "$REPO" --password-file "$PW" --to "$T/restored/data" --start --port "$P" --no-archive -q
[ "$(qp "$P" -c "SELECT count(*), max(id) FROM marks")" = "60|60" ] || fail "restored $(qp "$P" -c "SELECT count(*), max(id) FROM marks") instead of 60|60"
stop_restored "$T/restored/data"
echo "PASS"
