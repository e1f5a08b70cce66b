#!/usr/bin/env bash
# Arca vs pgBackRest on the same PostgreSQL database (pgbench -i -s SCALE), same server, same run.
#
#   bench/pg.sh [--scale N] [--runs N] [--workdir DIR] [--load-seconds N]
#
# pgBackRest (Debian package, installed if missing) runs with process-max=2, zstd level 3 and
# AES-256 repository encryption; Arca with its defaults (zstd 3, AES-256-GCM, threads = cores).
# Both take WAL from the same archive_command (pgBackRest's archive-push, then arca pg wal-push).
# Measured, alternating the tools' order per run:
#   full backup time; restore time to a new directory (until durable: arca syncs, pgBackRest's
#   restore is followed by `sync -f`); the size a second backup adds after `pgbench -T LOAD`
#   (Arca: a full backup that deduplicates; pgBackRest: full and incremental);
#   point-in-time restore to a time target until the server accepts connections as a primary
#   (arca pg restore --time --start; pgbackrest restore --type=time + pg_ctl start + promotion);
#   the data-loss window of `arca pg wal-stream` under pgbench load: the server and the stream
#   are killed (-9) together, and the newest committed marker row (one every 50 ms) is compared
#   with the newest one a restore from the repository has.
# Prints Markdown with medians and ratios; raw numbers go to WORKDIR/results/pg-DATE.json.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CMDLINE="bench/pg.sh${*:+ $*}"
SCALE=50 RUNS=3 WORKDIR=$BENCH_DIR/work LOAD=60
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    --load-seconds) LOAD=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "pg.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
[ "$(id -u)" = 0 ] || { echo "pg.sh runs as root (servers and tools run as the postgres user)" >&2; exit 1; }
for tool in pgbackrest bc; do
  command -v $tool >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $tool >/dev/null
done

mkdir -p "$WORKDIR/results"
WORKDIR=$(cd "$WORKDIR" && pwd)
W=$WORKDIR/pg
rm -rf "$W"; mkdir -p "$W"; chown postgres: "$W"; chmod 755 "$W"
install -m 755 "$ROOT/build/arca" "$W/arca"
echo bench-password > "$W/pw"; chown postgres: "$W/pw"; chmod 600 "$W/pw"
as_pg() { runuser -u postgres -- "$@"; }
now() { date +%s.%N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RESULTS=$W/results.txt; : > "$RESULTS"
record() { echo "$1 $2 $3" >> "$RESULTS"; log "$1 $2 = $3"; }  # metric tool value

SRV=$W/server
PGBR_CONF=$W/pgbackrest.conf
ARCA_REPO=$W/arca-repo
PGBR_REPO=$W/pgbr-repo
archive_cmd="pgbackrest --config=$PGBR_CONF --stanza=bench archive-push %p && $W/arca pg wal-push --repo $ARCA_REPO --password-file $W/pw %p"
PG_EXTRA_CONF="archive_mode = on
archive_command = '$archive_cmd'
max_wal_size = 4GB" "$ROOT/tests/servers/postgres.sh" start "$SRV"
source "$SRV/env"
trap '"$ROOT/tests/servers/postgres.sh" stop "$SRV"; pkill -9 -f "^$W/arca " || true' EXIT
pgbr_conf() {
  cat > "$PGBR_CONF" <<CONF
[global]
repo1-path=$PGBR_REPO
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=bench-password
repo1-retention-full=99
process-max=2
compress-type=zst
compress-level=3
start-fast=y
log-level-console=warn
log-level-file=off
lock-path=$W/pgbr-lock
spool-path=$W/pgbr-spool
[bench]
pg1-path=$PGDATA
pg1-port=$PGPORT
pg1-socket-path=$SRV
CONF
  chown postgres: "$PGBR_CONF"
}
new_repos() {
  rm -rf "$ARCA_REPO" "$PGBR_REPO"
  as_pg "$W/arca" init --repo "$ARCA_REPO" --password-file "$W/pw" -q
  pgbr_conf
  as_pg pgbackrest --config="$PGBR_CONF" --stanza=bench stanza-create >/dev/null
}
PGB() { as_pg "$PG_BIN/pgbench" -h "$SRV" -p "$PGPORT" "$@"; }
psqlq() { as_pg psql -h "$SRV" -p "$PGPORT" -XAtq "$@"; }

log "pgbench -i -s $SCALE"
PGB -i -s "$SCALE" -q >/dev/null 2>&1
DB_BYTES=$(psqlq -c "SELECT sum(pg_database_size(oid)) FROM pg_database")
log "database: $((DB_BYTES / 1048576)) MiB"
new_repos

restore_dir=$W/restore
run_arca() {
  local r=$1 t0 t1
  t0=$(now); as_pg "$W/arca" pg backup --repo "$ARCA_REPO" --password-file "$W/pw" -q --no-row-counts; t1=$(now)
  record backup_s arca "$(echo "$t1 - $t0" | bc)"
  rm -rf "$restore_dir"; mkdir -p "$restore_dir"; chown postgres: "$restore_dir"
  t0=$(now); as_pg "$W/arca" pg restore --repo "$ARCA_REPO" --password-file "$W/pw" --to "$restore_dir/data" --target immediate -q; t1=$(now)
  record restore_s arca "$(echo "$t1 - $t0" | bc)"
  rm -rf "$restore_dir"
}
run_pgbr() {
  local r=$1 t0 t1
  t0=$(now); as_pg pgbackrest --config="$PGBR_CONF" --stanza=bench backup --type=full >/dev/null; t1=$(now)
  record backup_s pgbackrest "$(echo "$t1 - $t0" | bc)"
  rm -rf "$restore_dir"; mkdir -p "$restore_dir/data"; chown -R postgres: "$restore_dir"; chmod 700 "$restore_dir/data"
  t0=$(now); as_pg pgbackrest --config="$PGBR_CONF" --stanza=bench restore --pg1-path="$restore_dir/data" --type=immediate >/dev/null
  sync -f "$restore_dir/data"; t1=$(now)
  record restore_s pgbackrest "$(echo "$t1 - $t0" | bc)"
  rm -rf "$restore_dir"
}
for r in $(seq "$RUNS"); do
  log "run $r"
  if [ $((r % 2)) = 1 ]; then run_arca "$r"; run_pgbr "$r"; else run_pgbr "$r"; run_arca "$r"; fi
done

log "sizes: one full backup each on fresh repositories, pgbench -T $LOAD, then a second backup"
new_repos
size() { du -sb "$1" | cut -f1; }
as_pg "$W/arca" pg backup --repo "$ARCA_REPO" --password-file "$W/pw" -q --no-row-counts
A0=$(size "$ARCA_REPO/data"); record first_backup_bytes arca "$A0"
as_pg pgbackrest --config="$PGBR_CONF" --stanza=bench backup --type=full >/dev/null
P0=$(size "$PGBR_REPO/backup"); record first_backup_bytes pgbackrest "$P0"
PGB -t 50 -c 2 >/dev/null 2>&1  # a small change: 100 pgbench transactions
as_pg "$W/arca" pg backup --repo "$ARCA_REPO" --password-file "$W/pw" -q --no-row-counts
A1=$(size "$ARCA_REPO/data"); record small_change_backup_bytes arca "$((A1 - A0))"
PGB -T "$LOAD" -c 2 >/dev/null 2>&1
as_pg "$W/arca" pg backup --repo "$ARCA_REPO" --password-file "$W/pw" -q --no-row-counts
record second_backup_bytes arca "$(( $(size "$ARCA_REPO/data") - A1 ))"
as_pg pgbackrest --config="$PGBR_CONF" --stanza=bench backup --type=incr >/dev/null
P1=$(size "$PGBR_REPO/backup"); record second_backup_bytes pgbackrest-incr "$((P1 - P0))"
as_pg pgbackrest --config="$PGBR_CONF" --stanza=bench backup --type=full >/dev/null
record second_backup_bytes pgbackrest-full "$(( $(size "$PGBR_REPO/backup") - P1 ))"

log "point-in-time restore to a time target, until the server accepts connections as a primary"
psqlq -c "CREATE TABLE IF NOT EXISTS marks (id serial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())"
psqlq -c "INSERT INTO marks DEFAULT VALUES"
PGB -T 10 -c 2 >/dev/null 2>&1
TARGET=$(psqlq -c "SELECT clock_timestamp()")
PGB -T 5 -c 2 >/dev/null 2>&1
psqlq -c "SELECT pg_switch_wal()" >/dev/null
sleep 3
wait_primary() {  # port
  for i in $(seq 6000); do
    [ "$(as_pg psql -h 127.0.0.1 -p "$1" -XAtqc "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] && return 0
    sleep 0.05
  done
  return 1
}
stop_dir() { as_pg "$PG_BIN/pg_ctl" -D "$1" -m immediate -w stop >/dev/null 2>&1 || true; }
for r in $(seq "$RUNS"); do
  rm -rf "$restore_dir"; mkdir -p "$restore_dir"; chown postgres: "$restore_dir"
  P=$(free_port)
  t0=$(now)
  as_pg "$W/arca" pg restore --repo "$ARCA_REPO" --password-file "$W/pw" --to "$restore_dir/data" --time "$TARGET" \
    --start --port "$P" --no-archive -q
  wait_primary "$P"; t1=$(now)
  record pitr_start_s arca "$(echo "$t1 - $t0" | bc)"
  stop_dir "$restore_dir/data"; rm -rf "$restore_dir"
  mkdir -p "$restore_dir/data"; chown -R postgres: "$restore_dir"; chmod 700 "$restore_dir/data"
  P=$(free_port)
  t0=$(now)
  as_pg pgbackrest --config="$PGBR_CONF" --stanza=bench restore --pg1-path="$restore_dir/data" --type=time \
    --target="$TARGET" --target-action=promote --archive-mode=off >/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$restore_dir/data" -o "-p $P -c unix_socket_directories=$restore_dir" -l "$restore_dir/log" -w start >/dev/null
  wait_primary "$P"; t1=$(now)
  record pitr_start_s pgbackrest "$(echo "$t1 - $t0" | bc)"
  stop_dir "$restore_dir/data"; rm -rf "$restore_dir"
done

log "data-loss window of arca pg wal-stream (flush interval 1 s) under pgbench load"
for r in $(seq "$RUNS"); do
  as_pg "$W/arca" pg wal-stream --repo "$ARCA_REPO" --password-file "$W/pw" --create-slot --slot bench_stream \
    --flush-interval 1 --retry-interval 1 2> "$W/stream.log" &
  sleep 2
  PGB -T 30 -c 2 >/dev/null 2>&1 &
  LOADPID=$!
  ( while true; do psqlq -c "INSERT INTO marks DEFAULT VALUES" 2>/dev/null || break; sleep 0.05; done ) &
  MARKPID=$!
  sleep $((8 + r))
  # A site disaster: the server and the streaming process die at the same instant, so only
  # what the repository already holds counts.
  pkill -9 -f "^$W/arca pg wal-stream" || true
  "$ROOT/tests/servers/postgres.sh" kill "$SRV"
  wait $LOADPID 2>/dev/null || true; wait $MARKPID 2>/dev/null || true
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$SRV/server.log" -w start >/dev/null
  LAST=$(psqlq -c "SELECT extract(epoch FROM max(at)) FROM marks")
  rm -rf "$restore_dir"; mkdir -p "$restore_dir"; chown postgres: "$restore_dir"
  P=$(free_port)
  as_pg "$W/arca" pg restore --repo "$ARCA_REPO" --password-file "$W/pw" --to "$restore_dir/data" --start --port "$P" --no-archive -q
  GOT=$(as_pg psql -h 127.0.0.1 -p "$P" -XAtqc "SELECT extract(epoch FROM max(at)) FROM marks")
  record loss_window_s arca-wal-stream "$(echo "$LAST - $GOT" | bc)"
  stop_dir "$restore_dir/data"; rm -rf "$restore_dir"
  psqlq -c "SELECT pg_drop_replication_slot('bench_stream')" >/dev/null 2>&1 || true
done

python3 - "$RESULTS" "$WORKDIR/results/pg-$(date +%Y%m%d-%H%M%S).json" "$CMDLINE" "$SCALE" "$DB_BYTES" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
data = {}
for metric, tool, value in rows:
    data.setdefault(metric, {}).setdefault(tool, []).append(float(value))
json.dump({"command": sys.argv[3], "scale": int(sys.argv[4]), "database_bytes": int(sys.argv[5]), "results": data},
          open(sys.argv[2], "w"), indent=1)
med = lambda m, t: statistics.median(data[m][t])
print(f"Command: `{sys.argv[3]}` — pgbench scale {sys.argv[4]}, database {int(sys.argv[5]) / 2**20:.0f} MiB\n")
print("| measure | Arca | pgBackRest | pgBackRest / Arca |")
print("|---|---|---|---|")
for m, label in [("backup_s", "full backup (s, median)"), ("restore_s", "restore (s, median)"),
                 ("pitr_start_s", "PITR restore → accepting connections (s, median)")]:
    a, p = med(m, "arca"), med(m, "pgbackrest")
    print(f"| {label} | {a:.2f} | {p:.2f} | {p / a:.2f}× |")
f = data["first_backup_bytes"]; s = data["second_backup_bytes"]
print(f"| first full backup stored (MiB) | {f['arca'][0] / 2**20:.1f} | {f['pgbackrest'][0] / 2**20:.1f} | |")
print(f"| second backup after the load (MiB; % of first) | {s['arca'][0] / 2**20:.1f} ({100 * s['arca'][0] / f['arca'][0]:.1f} %, full) "
      f"| incr {s['pgbackrest-incr'][0] / 2**20:.1f}, full {s['pgbackrest-full'][0] / 2**20:.1f} | |")
sc = data["small_change_backup_bytes"]["arca"][0]
print(f"| Arca backup after a small change (100 pgbench transactions; MiB, % of first) | "
      f"{sc / 2**20:.2f} ({100 * sc / f['arca'][0]:.1f} %) | | |")
lw = data.get("loss_window_s", {}).get("arca-wal-stream", [])
if lw:
    print(f"\nData-loss window with `arca pg wal-stream --flush-interval 1` under load: "
          f"median {statistics.median(lw):.2f} s, max {max(lw):.2f} s over {len(lw)} kills")
PY
