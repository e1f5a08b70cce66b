#!/usr/bin/env bash
# PostgreSQL: a cluster with a tablespace is backed up whole; restored with the tablespace moved
# (--tablespace-map) the server starts and has its rows. `arca check --read-data` authenticates
# the WAL archive objects and names a damaged one.
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
enable_archiving
mkdir -p "$T/tbs"; chown postgres: "$T/tbs"
q -c "CREATE TABLESPACE fast LOCATION '$T/tbs'" \
  -c "CREATE TABLE hot (id int PRIMARY KEY, v text) TABLESPACE fast" \
  -c "INSERT INTO hot SELECT g, md5(g::text) FROM generate_series(1, 30000) g"
OID=$(q -c "SELECT oid FROM pg_tablespace WHERE spcname = 'fast'")
SUM=$(q -c "SELECT md5(string_agg(v, ',' ORDER BY id)) FROM hot")

step "backup with a tablespace"
pa pg backup --repo "$REPO" --password-file "$PW" --json > "$T/b.json"
python3 - "$T/b.json" "$OID" "$T/tbs" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
t = j["metadata"]["tablespaces"]["value"]
assert len(t) == 1 and t[0]["oid"] == sys.argv[2] and t[0]["location"] == sys.argv[3], t
PY

step "the recorded tablespace location is used only when confirmed"
expect_exit 2 pa pg restore --repo "$REPO" --password-file "$PW" --to "$T/r1/data" --target immediate
err_contains "$OID at $T/tbs"
err_contains "--tablespace-map-all-original"
[ ! -e "$T/r1/data/PG_VERSION" ] || fail "a refused restore wrote the data directory"

step "restoring to the original tablespace location is refused while it is in use"
expect_exit 2 pa pg restore --repo "$REPO" --password-file "$PW" --to "$T/r1/data" --target immediate \
  --tablespace-map-all-original
err_contains "tablespace $OID location $T/tbs"
[ ! -e "$T/r1/data/PG_VERSION" ] || fail "a refused restore wrote the data directory"
expect_exit 2 pa pg restore --repo "$REPO" --password-file "$PW" --to "$T/r1/data" --target immediate --delta \
  --tablespace-map-all-original
err_contains "in use by the running server of $PGDATA"

step "restore with the tablespace moved, start, compare"
P=$(free_port)
mkdir -p "$T/r1"; chown postgres: "$T/r1"
a pg restore --repo "$REPO" --password-file "$PW" --to "$T/r1/data" --tablespace-map "$OID=$T/r1/tbs" \
  --target immediate --start --port "$P" --no-archive -q
[ "$(readlink "$T/r1/data/pg_tblspc/$OID")" = "$T/r1/tbs" ] || fail "tablespace link not rewritten"
[ "$(qp "$P" -c "SELECT md5(string_agg(v, ',' ORDER BY id)) FROM hot")" = "$SUM" ] || fail "tablespace rows differ"
[ "$(qp "$P" -c "SELECT pg_tablespace_location($OID)")" = "$T/r1/tbs" ] || fail "server does not see the moved tablespace"
stop_restored "$T/r1/data"
# All under one directory (pgBackRest's --tablespace-map-all), restored as root: owned by postgres.
a pg restore --repo "$REPO" --password-file "$PW" --to "$T/r3/data" --tablespace-map-all "$T/r3/tbs" \
  --target immediate --no-archive -q
[ "$(readlink "$T/r3/data/pg_tblspc/$OID")" = "$T/r3/tbs/$OID" ] || fail "--tablespace-map-all link wrong"
[ "$(stat -c %U "$T/r3/tbs/$OID")" = postgres ] || fail "tablespace location not owned by postgres"
[ -z "$(find "$T/r3/data" "$T/r3/tbs/$OID" -not -user postgres)" ] || fail "files not owned by postgres"
expect_exit 2 a pg restore --repo "$REPO" --password-file "$PW" --to "$T/r2" --tablespace-map "99999=$T/x"
err_contains "no tablespace with that OID"

step "PostgreSQL itself skips a symlink it did not make (so refusing one at backup costs nothing)"
ln -s /etc "$PGDATA/linked"
pa pg backup --repo "$REPO" --password-file "$PW" > /dev/null 2> "$T/err"
err_contains 'skipping special file "./linked"'
rm "$PGDATA/linked"

step "check --read-data authenticates WAL archive objects"
q -c "SELECT pg_switch_wal()" >/dev/null
sleep 1
pa check --repo "$REPO" --password-file "$PW" --read-data --json > "$T/c.json"
python3 - "$T/c.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] and j["wal_objects"] >= 2 and j["wal_read"] == j["wal_objects"], j
PY
OBJ=$(find "$REPO/wal" -type f -name '0000000100000000000000*' | sort | head -1)
flip_byte "$OBJ" 100  # flipped: a written 'X' would already be there one time in 256
expect_exit 12 pa check --repo "$REPO" --password-file "$PW" --read-data
err_contains "$(basename "$OBJ")"
echo "PASS"
