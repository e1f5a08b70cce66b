#!/usr/bin/env bash
# PostgreSQL: a recovery point's own settings must not run programs or reach paths on the
# restoring host. The source server sets command settings (they run only during recovery, so the
# source itself never runs them), a preload library by path, a socket directory and a pid file
# outside its data directory; `arca pg verify` and `arca pg restore --start` as root must run
# none of it, and the restored server's environment holds no repository secret
# (docs/security.md, "PostgreSQL restores").
source "$(dirname "$0")/lib_pg.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: restores as root are what this tests"; exit 0; }

start_pg
pg_init_repo
enable_archiving  # the restored primary must keep archive_mode (checked below)
q -c "CREATE TABLE t (id int PRIMARY KEY)" -c "INSERT INTO t SELECT generate_series(1, 100)"
mkdir -p "$T/hostile"; chmod 777 "$T/hostile"
M=$T/hostile/marker
for s in recovery_end_command archive_cleanup_command; do
  q -c "ALTER SYSTEM SET $s = 'echo $s >> $M; id >> $M; env >> $M'"
done
q -c "ALTER SYSTEM SET external_pid_file = '$T/hostile/ext.pid'" \
  -c "ALTER SYSTEM SET unix_socket_directories = '$T/hostile'" \
  -c "ALTER SYSTEM SET promote_trigger_file = '$T/hostile/victim'"
echo precious > "$T/hostile/victim"; chmod 666 "$T/hostile/victim"
pa pg backup --repo "$REPO" --password-file "$PW" -q
# A secret of the object store: a local repository does not need it, but Arca must not hand it on.
export AWS_SECRET_ACCESS_KEY=aws-secret-for-test

nothing_ran() {
  [ ! -e "$M" ] || { head -5 "$M" >&2; fail "$1: a command from the recovery point ran"; }
  [ ! -e "$T/hostile/ext.pid" ] || fail "$1: the point's external_pid_file was written"
  ls "$T/hostile" | grep -q '^\.s\.PGSQL' && fail "$1: the server used the point's socket directory"
  [ "$(cat "$T/hostile/victim")" = precious ] || fail "$1: the point's promote_trigger_file was removed"
  true
}

step "pg verify --target latest runs none of the point's commands"
a pg verify --repo "$REPO" --target latest -q
nothing_ran "pg verify"

step "pg restore --start runs none of them; the server's environment holds no repository secret"
P=$(free_port)
a pg restore --repo "$REPO" --to "$T/r1/data" --start --port "$P" > "$T/restore.out"
nothing_ran "pg restore --start"
PID=$(head -1 "$T/r1/data/postmaster.pid")
tr '\0' '\n' < "/proc/$PID/environ" > "$T/server.env"
grep -q '^ARCA_PASSWORD=' "$T/server.env" && fail "the restored server's environment holds ARCA_PASSWORD"
grep -q '^AWS_SECRET_ACCESS_KEY=' "$T/server.env" && fail "the restored server's environment holds AWS_SECRET_ACCESS_KEY"
[ "$(qp "$P" -U postgres -d postgres -c 'SELECT count(*) FROM t')" = 100 ] || fail "the restored server lacks the data"
[ "$(qp "$P" -U postgres -d postgres -c 'SHOW recovery_end_command')" = "" ] || fail "recovery_end_command is not neutralised"
step "the restored primary keeps archive_mode: its emptied archive_command holds WAL until the operator sets it"
[ "$(qp "$P" -U postgres -d postgres -c 'SHOW archive_mode')" = on ] || fail "the restored primary does not keep archive_mode"
[ "$(qp "$P" -U postgres -d postgres -c 'SHOW archive_command')" = "" ] || fail "the point's archive_command is in effect"
qp "$P" -U postgres -d postgres -c "SELECT pg_switch_wal()" >/dev/null
mkdir -p "$T/arch"; chown postgres: "$T/arch"
qp "$P" -U postgres -d postgres -c "ALTER SYSTEM SET archive_command = 'cp %p $T/arch/%f'" >/dev/null
qp "$P" -U postgres -d postgres -c "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 50); do [ -n "$(ls "$T/arch")" ] && break; sleep 0.2; done
[ -n "$(ls "$T/arch")" ] || fail "archive_command set with ALTER SYSTEM does not take effect (a command-line setting overrides it)"
stop_restored "$T/r1/data"

step "pg restore without --start neutralises the commands in postgresql.auto.conf and says so"
a pg restore --repo "$REPO" --to "$T/r2/data" --target immediate 2> "$T/r2.err" >/dev/null
grep -q "recovery_end_command" "$T/r2.err" || { cat "$T/r2.err"; fail "no note names the neutralised recovery_end_command"; }
sed -n '/^# Added by arca pg restore/,$p' "$T/r2/data/postgresql.auto.conf" > "$T/block"
grep -q "^recovery_end_command = ''" "$T/block" || fail "recovery_end_command is not emptied in arca's block"
grep -q "^archive_cleanup_command = ''" "$T/block" || fail "archive_cleanup_command is not emptied in arca's block"
P=$(free_port)
chown -R postgres: "$T/r2"
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$T/r2/data" -l "$T/r2/log" -o "-p $P -c unix_socket_directories=$T/r2" -w start >/dev/null
stop_restored "$T/r2/data"
[ ! -e "$M" ] || fail "a server started later by the operator ran a command from the recovery point"

step "a preload library named by path is dropped, bare names are kept"
q -c "ALTER SYSTEM SET shared_preload_libraries = '$T/hostile/evil, pg_stat_statements'"
pa pg backup --repo "$REPO" --password-file "$PW" -q
a pg verify --repo "$REPO" -q
nothing_ran "pg verify with a preload library by path"
echo "PASS"
