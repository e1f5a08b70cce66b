#!/usr/bin/env bash
# PostgreSQL: each failure gets a clear message and documented exit code, and a failed base
# backup never leaves a recovery point: unreachable server, wrong password, a role without
# replication permission, wal_level = minimal, a server killed mid-backup, and a restore_command
# that cannot read the repository.
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
snapshots() { pa snapshots --repo "$REPO" --password-file "$PW" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

step "unreachable server"
FREE=$(free_port)
expect_exit 10 pa pg backup --repo "$REPO" --password-file "$PW" -d "host=127.0.0.1 port=$FREE"
err_contains "cannot reach PostgreSQL at 127.0.0.1:$FREE"
err_contains "is the server running"

step "wrong password"
q -c "CREATE ROLE backup LOGIN REPLICATION PASSWORD 'right'" -c "CREATE ROLE norepl LOGIN PASSWORD 'pw'"
sed -i '1i host all backup 127.0.0.1/32 scram-sha-256\nhost replication backup 127.0.0.1/32 scram-sha-256' "$PGDATA/pg_hba.conf"
q -c "SELECT pg_reload_conf()" >/dev/null
expect_exit 11 pa pg backup --repo "$REPO" --password-file "$PW" -d "host=127.0.0.1 port=$PGPORT user=backup password=wrong"
err_contains "refused the login"
grep -q "wrong" "$T/err" && fail "the password reached the error message"
pa pg backup --repo "$REPO" --password-file "$PW" -q -d "host=127.0.0.1 port=$PGPORT user=backup password=right" --no-row-counts

step "a role without the REPLICATION attribute"
expect_exit 11 pa pg backup --repo "$REPO" --password-file "$PW" -d "host=127.0.0.1 port=$PGPORT user=norepl password=pw"
err_contains "REPLICATION attribute"

step "a server killed in the middle of a base backup leaves no recovery point"
"$PG_BIN/pgbench" -i -s 15 -q >/dev/null 2>&1
BEFORE=$(snapshots)
pa pg backup --repo "$REPO" --password-file "$PW" --threads 1 > /dev/null 2> "$T/err" &
B=$!
sleep 0.4
"$SERVERS/postgres.sh" kill "$T/pg"
if wait $B; then fail "the backup succeeded although the server was killed"; fi
grep -q "broke\|lost\|terminated\|failed" "$T/err" || { cat "$T/err"; fail "no clear error for the killed server"; }
[ "$(snapshots)" = "$BEFORE" ] || fail "a failed backup left a recovery point"
pa check --repo "$REPO" --password-file "$PW" -q || fail "the repository is inconsistent after the failed backup"

step "wal_level = minimal (which needs max_wal_senders = 0)"
echo "wal_level = minimal" >> "$PGDATA/postgresql.conf"
echo "max_wal_senders = 0" >> "$PGDATA/postgresql.conf"
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$T/pg/server.log" -w start >/dev/null
expect_exit 2 pa pg backup --repo "$REPO" --password-file "$PW"
err_contains "max_wal_senders above 0 (with wal_level = replica)"
"$SERVERS/postgres.sh" stop "$T/pg"

step "a restore_command that cannot open the repository stops recovery instead of ending it early"
expect_exit 126 a pg wal-fetch --repo "$T/nonexistent" --password-file "$PW" --system-id 1 000000010000000000000001 "$T/x"
err_contains "does not exist"
echo "PASS"
