# Helpers for the PostgreSQL end-to-end tests: a real PostgreSQL server from Debian in the
# test's directory, and arca run as the server's user (archive_command and restore_command run
# as that user and must be able to read the repository and the password file).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SERVERS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../servers" && pwd)
chmod 755 "$T"; chown postgres: "$T"  # the server user creates the repository here
install -m 755 "$ARCA" "$T/arca"
PG_ARCA=$T/arca
echo "$ARCA_PASSWORD" > "$T/pw"
chown postgres: "$T/pw"; chmod 600 "$T/pw"
PW=$T/pw

pg_cleanup() {
  # The script's exit status goes on to cleanup (which exits with $?): without this a failed
  # PostgreSQL test exited 0. errexit is off so that handing it on does not end the trap early.
  local rc=$?
  set +e
  # arca runs under runuser: killing the job leaves it orphaned, so it goes by its path.
  pkill -9 -f "^$T/arca " 2>/dev/null || true
  # Servers are daemons, not jobs of this shell: stop every one started under $T.
  for f in $(find "$T" -maxdepth 4 -name postmaster.pid 2>/dev/null); do
    kill -9 "$(head -1 "$f")" 2>/dev/null || true
  done
  (exit $rc); cleanup
}
trap pg_cleanup EXIT

# Starts a server in $T/$1 (default "pg") and loads its PG* variables.
start_pg() {
  local dir=$T/${1:-pg}
  "$SERVERS/postgres.sh" start "$dir"
  source "$dir/env"
}
# arca as the postgres user; the repository and password file are its own.
# S3 credentials (repositories on the S3 test server) are passed on when set.
aws_env() { env | grep -E '^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|DEFAULT_REGION)=' || true; }
pa() {
  local -a extra
  mapfile -t extra < <(aws_env)
  runuser -u postgres -- env ARCA_PASSWORD="$ARCA_PASSWORD" PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres \
    "${extra[@]}" "$PG_ARCA" "$@"
}
pg_init_repo() {
  local extra=()
  [[ $REPO == s3:* ]] && extra=(--create-bucket)
  pa init --repo "$REPO" --kdf-memory 8192 --kdf-time 1 -q "${extra[@]}"
}
q() { psql -XAtq -v ON_ERROR_STOP=1 "$@"; }
# psql against a restored server on port $1.
qp() { local p=$1; shift; psql -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$p" "$@"; }
enable_archiving() {
  # The server's environment has no S3 credentials: the archive command carries the test's.
  local creds
  creds=$(aws_env | tr '\n' ' ')
  q -c "ALTER SYSTEM SET archive_mode = on" \
    -c "ALTER SYSTEM SET archive_command = '$creds$PG_ARCA pg wal-push --repo $REPO --password-file $PW %p'"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/../server.log" -w restart >/dev/null
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits (up to 20 s) until the archiver has archived the segment before the current WAL
# position; what follows checks the archive itself.
# The segment is named once, at the call: re-evaluated in the loop, WAL written meanwhile
# (autovacuum, a checkpoint) moved the target into a segment no switch would close, and every
# wait ran to its 20 s end (pg_pitr: 30 s of 60).
wait_archived() {
  local target
  target=$(q -c "SELECT pg_walfile_name(pg_current_wal_lsn() - 1)")
  for i in $(seq 100); do
    [ "$(q -c "SELECT last_archived_wal >= '$target' FROM pg_stat_archiver")" = t ] && return 0
    sleep 0.2
  done
}
stop_restored() { runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null; }
