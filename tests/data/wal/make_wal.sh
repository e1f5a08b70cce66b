#!/usr/bin/env bash
# Regenerates the WAL samples of tests/unit/test_wal_records.cpp from a real PostgreSQL (see
# README.md). Run as root (the server runs as 'postgres') or as a user who can run initdb:
#   tests/data/wal/make_wal.sh
# Writes seg-*.zst (1 MiB segments, zstd) and expected.json (pg_waldump's view of them) here.
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
work=$(mktemp -d /tmp/arca-walgen-XXXXXX)
chmod 755 "$work"; [ "$(id -u)" = 0 ] && chown postgres: "$work"
trap 'as_pg "$PG_BIN/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
as_pg mkdir "$work/archive"
as_pg "$PG_BIN/initdb" -D "$work/data" -U postgres -A trust --no-sync --wal-segsize=1 >/dev/null
cat >>"$work/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$work'
fsync = off
full_page_writes = on
wal_level = replica
archive_mode = on
archive_command = 'cp %p $work/archive/%f'
CONF
as_pg "$PG_BIN/pg_ctl" -D "$work/data" -l "$work/log" -w start >/dev/null
q() { as_pg "$PG_BIN/psql" -h "$work" -XAtq -v ON_ERROR_STOP=1 -d postgres "$@"; }
seg() { q -c "SELECT pg_walfile_name(pg_current_wal_insert_lsn())"; }

q -c "CREATE TABLE t (id int, v text)" -c "CHECKPOINT" -c "SELECT pg_switch_wal()" >/dev/null
# Segment A: commits, an abort, then a commit with 3000 subtransactions (a 12 kB record that
# spans pages), then a switch.
A=$(seg)
q -c "INSERT INTO t VALUES (1, 'one')"
q -c "BEGIN" -c "INSERT INTO t VALUES (2, 'rolled back')" -c "ROLLBACK"
q -c "INSERT INTO t VALUES (3, 'three')"
q -c "CHECKPOINT"  # the next change of t's page logs a full-page image (with a hole)
{ echo "BEGIN;"; for i in $(seq 3000); do echo "SAVEPOINT s; INSERT INTO t VALUES ($i, 'sub');"; done; echo "COMMIT;"; } |
  as_pg "$PG_BIN/psql" -h "$work" -XAtq -v ON_ERROR_STOP=1 -d postgres >/dev/null
q -c "SELECT pg_switch_wal()" >/dev/null
# Segments B and C: with pglz-compressed page images, a bulk insert fills B and continues into
# C (a record spans the boundary), then two small commits in C, then a switch.
q -c "ALTER SYSTEM SET wal_compression = pglz" -c "SELECT pg_reload_conf()" -c "CHECKPOINT" >/dev/null
B=$(seg)
q -c "INSERT INTO t SELECT g, repeat('x', 150) FROM generate_series(1, 5200) g"
C=$(seg)
q -c "INSERT INTO t VALUES (4, 'four')"
q -c "INSERT INTO t VALUES (5, 'five')"
q -c "SELECT pg_switch_wal()" >/dev/null
q -c "CHECKPOINT" >/dev/null
for i in $(seq 100); do [ -f "$work/archive/$C" ] && break; sleep 0.1; done
[ "$B" != "$C" ] || { echo "the bulk insert stayed in one segment" >&2; exit 1; }

rm -f "$out"/seg-*.zst
for s in "$A" "$B" "$C"; do zstd -q -19 -f "$work/archive/$s" -o "$out/seg-$s.zst"; done
chmod 644 "$out"/seg-*.zst; chown --reference="$out" "$out"/seg-*.zst
TZ=UTC "$PG_BIN/pg_waldump" -p "$work/archive" "$A" "$C" >"$work/dump.txt" 2>"$work/dump.err" || true
python3 - "$work/dump.txt" "$out/expected.json" "$A" "$B" "$C" <<'PY'
import calendar, json, re, sys, datetime
dump, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
seg_size = 1 << 20
def lsn(s):
    hi, lo = s.split('/')
    return (int(hi, 16) << 32) | int(lo, 16)
line_re = re.compile(r'rmgr: (\S+)\s+len \(rec/tot\):\s*(\d+)/\s*(\d+), tx:\s*(\d+), lsn: (\S+), prev (\S+), desc: (\S+)(.*)')
recs = []
for line in open(dump):
    m = line_re.match(line)
    if not m: continue
    rmgr, _, tot, _, at, prev, kind, rest = m.groups()
    r = {"lsn": lsn(at.rstrip(',')), "prev": lsn(prev.rstrip(',')), "len": int(tot), "rmgr": rmgr, "desc": kind}
    t = re.match(r'\s*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{6}) UTC', rest)
    if rmgr == "Transaction" and t:
        dt = datetime.datetime.strptime(t.group(1), "%Y-%m-%d %H:%M:%S")
        r["time_us"] = calendar.timegm(dt.timetuple()) * 1000000 + int(t.group(2))
    recs.append(r)
# Per segment: the records that start in it (count, first, last) and its transaction records.
segs = []
for n in names:
    start = int(n[8:16], 16) * (1 << 32) + int(n[16:24], 16) * seg_size
    mine = [r for r in recs if start <= r["lsn"] < start + seg_size]
    segs.append({"name": n, "file": "seg-%s.zst" % n, "start": start, "records": len(mine),
                 "first": mine[0], "last": mine[-1],
                 "xact": [r for r in mine if r["rmgr"] == "Transaction"]})
json.dump({"segment_size": seg_size, "page_size": 8192, "segments": segs}, open(dest, "w"), indent=1)
PY
grep -q "FPW\|FPI\|blkref.*FPW" "$work/dump.txt" || true
echo "wrote $out: $A $B $C ($(grep -c 'FPW' "$work/dump.txt") records with page images)"
