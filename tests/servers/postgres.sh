#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests, on a free loopback port.
#   postgres.sh start DIR   initdb DIR/data, configure for archiving/replication, start; writes DIR/env
#                           (PGHOST, PGPORT, PGUSER, PGDATABASE, PGDATA, PG_BIN)
#   postgres.sh stop DIR    stop it (fast), if running
#   postgres.sh kill DIR    kill -9 the postmaster (a server dying mid-operation)
# Extra postgresql.conf lines can be given in $PG_EXTRA_CONF. The server runs as the 'postgres'
# user (root cannot run it); DIR is made reachable for that user.
set -euo pipefail
cmd=$1 dir=$2
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case $cmd in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir"
  # Every parent must be traversable by the server's user.
  p=$dir; while [ "$p" != / ]; do p=$(dirname "$p"); [ -x "$p" ] || chmod o+x "$p"; done
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync ${PG_INITDB_OPTS:-} >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
fsync = off
full_page_writes = on
${PG_EXTRA_CONF:-}
CONF
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  cat >"$dir/env" <<ENV
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres PGDATA=$dir/data PG_BIN=$PG_BIN
ENV
  ;;
stop)
  [ -f "$dir/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  ;;
kill)
  # Like a crash of the whole server: the postmaster and every backend at once.
  if [ -f "$dir/data/postmaster.pid" ]; then
    pm=$(head -1 "$dir/data/postmaster.pid")
    kids=$(pgrep -P "$pm" || true)
    kill -9 "$pm" $kids 2>/dev/null || true
    # Until the processes are reaped, not only dead: a restart refuses to start while the PID in
    # postmaster.pid exists, and a zombie's does (whoever inherited it may reap it seconds later).
    for i in $(seq 100); do kill -0 "$pm" $kids 2>/dev/null || break; sleep 0.05; done
  fi
  ;;
*) echo "usage: $0 start|stop|kill DIR" >&2; exit 2 ;;
esac
