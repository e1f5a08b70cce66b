#!/usr/bin/env bash
# PostgreSQL: a whole disaster-recovery cycle across timelines. WAL is streamed from the primary;
# the primary is lost; the latest restore is promoted (timeline 2) and becomes the new primary;
# streaming resumes from it (history file archived, WAL from the switch point); a second restore
# to the latest point follows the timeline switch and has every row from both primaries.
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
q -c "CREATE TABLE t (id int PRIMARY KEY)"
pa pg backup --repo "$REPO" --password-file "$PW" -q
stream() {  # conninfo
  pa pg wal-stream --repo "$REPO" --password-file "$PW" -d "$1" --create-slot --flush-interval 0.3 --retry-interval 0.5 \
    2>> "$T/stream.log" &
  for i in $(seq 100); do [ "$(grep -c "streaming WAL" "$T/stream.log")" -ge "$2" ] && return 0; sleep 0.1; done
  cat "$T/stream.log"; fail "wal-stream did not start"
}
stop_stream() { sleep 1.2; pkill -TERM -f "^$T/arca pg wal-stream"; for i in $(seq 50); do pgrep -f "^$T/arca pg wal-stream" >/dev/null || return 0; sleep 0.1; done; }

step "stream from the first primary"
stream "host=127.0.0.1 port=$PGPORT" 1
q -c "INSERT INTO t SELECT generate_series(1, 100)"
stop_stream
"$SERVERS/postgres.sh" stop "$T/pg"

step "the latest restore becomes the new primary on timeline 2"
mkdir -p "$T/new"; chown postgres: "$T/new"
P=$(free_port)
a pg restore --repo "$REPO" --password-file "$PW" --to "$T/new/data" --start --port "$P" --no-archive -q
[ "$(qp "$P" -c "SELECT count(*) FROM t")" = 100 ] || fail "the first restore lacks rows"
qp "$P" -c "CHECKPOINT" >/dev/null
TLI=$(qp "$P" -c "SELECT timeline_id FROM pg_control_checkpoint()")
[ "$TLI" -ge 2 ] || fail "the restored server did not switch timeline (timeline $TLI)"

step "streaming resumes from the new primary: history file and the new timeline from its switch point"
stream "host=127.0.0.1 port=$P" 2
qp "$P" -c "INSERT INTO t SELECT generate_series(101, 200)"
stop_stream
SYS=$(ls "$REPO/wal")
[ -n "$(ls "$REPO/wal/$SYS" | grep -x "$(printf '%08X' "$TLI")")" ] || fail "nothing archived on timeline $TLI"
find "$REPO/wal/$SYS" -name "$(printf '%08X' "$TLI").history" | grep -q . || fail "the timeline history file was not archived"
pa pg check --repo "$REPO" --password-file "$PW" > "$T/check.out" || { cat "$T/check.out"; fail "gaps across the switch"; }
grep -q "from timeline 1" "$T/check.out" || { cat "$T/check.out"; fail "pg check does not show the switch"; }
stop_restored "$T/new/data"

step "a latest restore follows the switch and has the rows of both primaries"
P2=$(free_port)
a pg restore --repo "$REPO" --password-file "$PW" --to "$T/again/data" --start --port "$P2" --no-archive -q
[ "$(qp "$P2" -c "SELECT count(*), max(id) FROM t")" = "200|200" ] || fail "restored $(qp "$P2" -c "SELECT count(*), max(id) FROM t"), expected 200|200"
stop_restored "$T/again/data"
echo "PASS"
