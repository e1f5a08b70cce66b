#!/usr/bin/env bash
# PostgreSQL logical exports: `arca pg dump` of a chosen schema and of whole databases,
# restored with `arca pg restore-logical` into new databases and by streaming to pg_restore;
# rows compared with the source. A second dump of unchanged data adds almost nothing.
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
q -c "CREATE DATABASE shop"
q -d shop -c "CREATE SCHEMA sales" -c "CREATE SCHEMA scratch" \
  -c "CREATE TABLE sales.orders (id int PRIMARY KEY, note text)" \
  -c "INSERT INTO sales.orders SELECT g, repeat(md5(g::text), 20) FROM generate_series(1, 20000) g" \
  -c "CREATE TABLE scratch.tmp AS SELECT generate_series(1, 10) x"
SUM=$(q -d shop -c "SELECT md5(string_agg(id::text || note, ',' ORDER BY id)) FROM sales.orders")

step "dump one schema of one database"
pa pg dump --repo "$REPO" --password-file "$PW" --db shop -n sales --json > "$T/d1.json"
D1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/d1.json")

step "restore-logical into a new database"
q -c "CREATE DATABASE shop_copy"
pa pg restore-logical --repo "$REPO" --password-file "$PW" "$D1" -d "dbname=shop_copy" -q
[ "$(q -d shop_copy -c "SELECT md5(string_agg(id::text || note, ',' ORDER BY id)) FROM sales.orders")" = "$SUM" ] || fail "restored rows differ"
[ "$(q -d shop_copy -c "SELECT to_regclass('scratch.tmp') IS NULL")" = t ] || fail "a schema not asked for was exported"

step "stream to pg_restore through stdout"
q -c "CREATE DATABASE shop_stream"
pa pg restore-logical --repo "$REPO" --password-file "$PW" "$D1" --stdout | "$PG_BIN/pg_restore" -d shop_stream
[ "$(q -d shop_stream -c "SELECT count(*) FROM sales.orders")" = 20000 ] || fail "streamed restore incomplete"

step "a second dump of unchanged data stores almost nothing; --host is recorded"
pa pg dump --repo "$REPO" --password-file "$PW" --db shop -n sales --host dump-host-7 --json > "$T/d2.json"
[ "$(json_field "$T/d2.json" '["host"]')" = dump-host-7 ] || fail "pg dump --json shows host $(json_field "$T/d2.json" '["host"]'), not --host"
D2=$(json_field "$T/d2.json" '["id"]')
pa snapshots --repo "$REPO" --password-file "$PW" --json | python3 -c '
import json, sys
p = [s for s in json.load(sys.stdin) if s["id"] == sys.argv[1]]
assert p and p[0]["host"] == "dump-host-7", p' "$D2" || fail "the dump's recovery point does not record --host"
python3 - "$T/d1.json" "$T/d2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
# Only the chunks holding the dump's header (its timestamp) and its table of contents change.
assert b["stats"]["blobs_added"] <= 3 and b["stats"]["blobs_added"] < a["stats"]["blobs_added"], (a["stats"], b["stats"])
PY

step "all databases; errors"
pa pg dump --repo "$REPO" --password-file "$PW" -q
ALL=$(pa snapshots --repo "$REPO" --password-file "$PW" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
expect_exit 2 pa pg restore-logical --repo "$REPO" --password-file "$PW" "$ALL" -d "dbname=postgres"
err_contains "choose one with --db"
expect_exit 10 pa pg restore-logical --repo "$REPO" --password-file "$PW" "$ALL" --db nosuch --stdout
err_contains "no database 'nosuch'"
expect_exit 1 pa pg dump --repo "$REPO" --password-file "$PW" --db shop -t 'nosuch_table'
err_contains "pg_dump of database shop failed"
echo "PASS"
