#!/usr/bin/env bash
# PostgreSQL warm standby from the repository: `pg restore --standby --start` keeps replaying the
# WAL the primary archives after it started (read-only queries work, writes do not), `pg promote`
# makes it a primary and reports the last commit it replayed; the refused combinations and the
# errors of promote on what is not a running standby.
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
enable_archiving
q -c "CREATE TABLE marks (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())"
q -c "INSERT INTO marks SELECT g FROM generate_series(1, 10) g"
pa pg backup --repo "$REPO" --password-file "$PW" -q

step "a standby has no recovery target: --standby with a target or an action is refused, nothing written"
for extra in "--time=2026-01-01 00:00:00+00" --lsn=0/3000060 --restore-point=before --xid=1234 \
  --action=pause --exclusive --target=immediate; do
  expect_exit 2 pa pg restore --repo "$REPO" --password-file "$PW" --to "$T/refused" --standby "$extra"
  err_contains "exclude each other"
done
[ ! -e "$T/refused" ] || fail "a refused standby restore wrote $T/refused"

step "restore --standby --start: in recovery, serving reads"
P=$(free_port)
pa pg restore --repo "$REPO" --password-file "$PW" --to "$T/standby/data" --standby --start --port "$P" --json \
  > "$T/restore.json"
python3 - "$T/restore.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["standby"] is True and j["started"] is True, j
assert "standby" in j["target"], j
PY
[ -f "$T/standby/data/standby.signal" ] || fail "no standby.signal"
[ ! -e "$T/standby/data/recovery.signal" ] || fail "recovery.signal next to standby.signal"
grep -q "^hot_standby = on" "$T/standby/data/postgresql.auto.conf" || fail "hot_standby not on"
grep -q "^recovery_target_time = ''" "$T/standby/data/postgresql.auto.conf" || fail "a recovery target is set"
[ "$(qp "$P" -c "SELECT pg_is_in_recovery()")" = t ] || fail "the standby is not in recovery"
[ "$(qp "$P" -c "SELECT count(*) FROM marks")" = 10 ] || fail "the standby lacks the rows of the backup"

step "rows written on the primary after the standby started reach it through the archive"
q -c "INSERT INTO marks SELECT g FROM generate_series(11, 20) g"
LAST_AT=$(q -c "SELECT extract(epoch FROM max(at)) FROM marks")
q -c "SELECT pg_switch_wal()" >/dev/null
wait_archived
START=$(date +%s.%N)
for i in $(seq 150); do
  [ "$(qp "$P" -c "SELECT count(*) FROM marks")" = 20 ] && break
  sleep 0.2
done
[ "$(qp "$P" -c "SELECT count(*) FROM marks")" = 20 ] || {
  tail -5 "$T/standby/data/arca-server.log"; fail "the standby did not replay the newly archived WAL within 30 s"; }
echo "replayed after $(python3 -c "print(round($(date +%s.%N) - $START, 1))") s"
[ "$(qp "$P" -c "SELECT pg_is_in_recovery()")" = t ] || fail "the standby left recovery by itself"
if qp "$P" -c "INSERT INTO marks VALUES (99)" 2> "$T/err"; then fail "the standby accepted a write"; fi
err_contains "read-only transaction"

step "restarted with pg_ctl (no options): on its own port and socket directory, still replaying"
SOCK=$(sed -n 5p "$T/standby/data/postmaster.pid")
stop_restored "$T/standby/data"
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$T/standby/data" -l "$T/standby/restart.log" -w start >/dev/null \
  || { tail -5 "$T/standby/restart.log"; fail "the standby did not start again with pg_ctl"; }
[ "$(sed -n 4p "$T/standby/data/postmaster.pid")" = "$P" ] || fail "the restarted standby is not on port $P"
[ "$(sed -n 5p "$T/standby/data/postmaster.pid")" = "$SOCK" ] || fail "the restarted standby's socket is not in $SOCK"
[ "$(qp "$P" -c "SELECT pg_is_in_recovery()")" = t ] || fail "the restarted standby is not in recovery"
q -c "INSERT INTO marks SELECT g FROM generate_series(21, 25) g"
LAST_AT=$(q -c "SELECT extract(epoch FROM max(at)) FROM marks")
q -c "SELECT pg_switch_wal()" >/dev/null
wait_archived
for i in $(seq 150); do
  [ "$(qp "$P" -c "SELECT count(*) FROM marks")" = 25 ] && break
  sleep 0.2
done
[ "$(qp "$P" -c "SELECT count(*) FROM marks")" = 25 ] || {
  tail -5 "$T/standby/restart.log"; fail "the restarted standby did not replay the newly archived WAL within 30 s"; }

step "pg promote (as root): accepts writes, reports the last commit replayed"
a pg promote --data-dir "$T/standby/data" --timeout 30 --json > "$T/promote.json"
python3 - "$T/promote.json" "$LAST_AT" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
last_at = float(sys.argv[2])
assert j["promoted"] is True, j
assert 0 < j["promote_s"] < 30, j
assert j["last_replayed_lsn"], j
assert j["last_replayed_commit_unix"] >= last_at, (j, last_at)
assert j["last_replayed_commit_time"].endswith("Z"), j
assert any("archive_command" in w for w in j["warnings"]), j
PY
[ "$(qp "$P" -c "SELECT pg_is_in_recovery()")" = f ] || fail "promoted server still in recovery"
qp "$P" -c "INSERT INTO marks VALUES (26)"
[ "$(qp "$P" -c "SELECT count(*) FROM marks")" = 26 ] || fail "write on the promoted server lost"
[ ! -e "$T/standby/data/standby.signal" ] || fail "standby.signal left after promotion"

step "promote errors: a primary (15), no directory or not a data directory (10), no server running (10)"
expect_exit 15 a pg promote --data-dir "$T/standby/data"
err_contains "is not a standby"
expect_exit 10 a pg promote --data-dir "$T/nowhere"
err_contains "does not exist"
mkdir -p "$T/plain"
expect_exit 10 a pg promote --data-dir "$T/plain"
err_contains "not a PostgreSQL data directory"
stop_restored "$T/standby/data"
expect_exit 10 a pg promote --data-dir "$T/standby/data" --json
err_contains "no PostgreSQL server is running"
echo "PASS"
