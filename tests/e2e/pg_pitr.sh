#!/usr/bin/env bash
# PostgreSQL: base backup and WAL archiving under a concurrent write load, point-in-time
# recovery between two known transactions, latest restore on a fresh directory, delta restore,
# idempotent WAL pushes, and the errors of a restore that cannot work.
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
enable_archiving
"$PG_BIN/pgbench" -i -s 3 -q >/dev/null 2>&1
q -c "CREATE TABLE marks (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())"

step "base backup under a concurrent pgbench load"
"$PG_BIN/pgbench" -T 6 -c 2 >/dev/null 2>&1 &
LOAD=$!
sleep 1
pa pg backup --repo "$REPO" --password-file "$PW" -q
B1=$(pa snapshots --repo "$REPO" --password-file "$PW" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
wait $LOAD

step "two known transactions with a recovery target between them"
q -c "INSERT INTO marks SELECT g FROM generate_series(1, 100) g"
sleep 1
TARGET=$(q -c "SELECT clock_timestamp()")
# The segment holding the first transaction: without it no restore reaches the target.
TARGET_SEG=$(q -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
sleep 1
q -c "INSERT INTO marks SELECT g FROM generate_series(101, 200) g"
q -c "SELECT pg_switch_wal()" >/dev/null
# One more archived segment, so that the target's segment missing is a gap, not the archive's end.
q -c "CREATE TABLE later (id int)" -c "SELECT pg_switch_wal()" >/dev/null
# Before the reads below: with data checksums, their hint bits write WAL into the next segment.
wait_archived
ACCOUNTS=$(q -c "SELECT sum(abalance) FROM pgbench_accounts")
HISTORY=$(q -c "SELECT count(*) FROM pgbench_history")

step "pg check: the archive is continuous from the backup"
pa pg check --repo "$REPO" --password-file "$PW" > "$T/check.out" || { cat "$T/check.out"; fail "pg check found gaps"; }
grep -q continuous "$T/check.out" || fail "pg check output: $(cat "$T/check.out")"

step "point-in-time restore (run as root) to the time between the transactions"
P1=$(free_port)
a pg restore --repo "$REPO" --password-file "$PW" --to "$T/pitr/data" --time "$TARGET" --start --port "$P1" --no-archive -q
[ "$(qp "$P1" -c "SELECT count(*), min(id), max(id) FROM marks")" = "100|1|100" ] || { tail -3 "$T/pitr/data/arca-server.log"; echo "target $TARGET"; fail "PITR: rows after the target are present or rows before it missing: $(qp "$P1" -c "SELECT count(*), max(id) FROM marks")"; }
[ "$(qp "$P1" -c "SELECT pg_is_in_recovery()")" = f ] || fail "PITR server was not promoted"
stop_restored "$T/pitr/data"

step "verify a point in time: the scratch server replays archived WAL to the target"
printf -- '-- check: rows up to the target\n-- expect: = 100\nSELECT count(*) FROM marks;\n' > "$T/checks.sql"
a pg verify --repo "$REPO" --password-file "$PW" --time "$TARGET" --checks "$T/checks.sql" --json > "$T/v.json"
python3 - "$T/v.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["passed"], j
names = {c["name"]: c for c in j["checks"]}
assert names["rows up to the target"]["status"] == "passed", names
assert names["row counts"]["status"] == "skipped", names["row counts"]
assert 1 < j["recovery_point_age_s"] < 600, j
PY

step "latest restore on a fresh directory equals the original"
P2=$(free_port)
pa pg restore --repo "$REPO" --password-file "$PW" --to "$T/latest/data" --start --port "$P2" --no-archive --json > "$T/restore.json"
[ "$(qp "$P2" -c "SELECT count(*) FROM marks")" = 200 ] || fail "latest restore lacks rows"
[ "$(qp "$P2" -c "SELECT sum(abalance) FROM pgbench_accounts")" = "$ACCOUNTS" ] || fail "pgbench_accounts differs"
[ "$(qp "$P2" -c "SELECT count(*) FROM pgbench_history")" = "$HISTORY" ] || fail "pgbench_history differs"
stop_restored "$T/latest/data"

step "a non-empty directory needs --delta; a delta restore writes only what differs"
expect_exit 2 pa pg restore --repo "$REPO" --password-file "$PW" --to "$T/latest/data"
err_contains "not empty"
pa pg restore --repo "$REPO" --password-file "$PW" --from "$B1" --to "$T/again/data" --target immediate -q
pa pg restore --repo "$REPO" --password-file "$PW" --from "$B1" --to "$T/again/data" --target immediate --delta --json > "$T/delta.json"
python3 - "$T/delta.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["bytes_written"] < j["bytes"] / 100, j
PY
# Over a directory a server has run on since: still a consistent copy of the first backup.
pa pg restore --repo "$REPO" --password-file "$PW" --from "$B1" --to "$T/latest/data" --delta --target immediate -q
[ "$(grep -c '^# Added by arca pg restore' "$T/latest/data/postgresql.auto.conf")" = 1 ] || fail "recovery settings of an earlier restore were left behind"
grep -q "^recovery_target_time = ''" "$T/latest/data/postgresql.auto.conf" || fail "unused recovery targets are not reset"
P3=$(free_port)
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$T/latest/data" -o "-p $P3" -l "$T/latest/log" -w start >/dev/null
[ "$(qp "$P3" -c "SELECT to_regclass('marks') IS NOT NULL")" = t ] || fail "delta restore to the first backup is not consistent"
[ "$(qp "$P3" -c "SELECT count(*) FROM marks")" = 0 ] || fail "delta restore to the first backup has later rows"
stop_restored "$T/latest/data"

step "WAL push is idempotent, and refuses different content under an archived name"
SEG=$(ls "$PGDATA/pg_wal" | grep -E '^[0-9A-F]{24}$' | sort | head -1)
cp "$PGDATA/pg_wal/$SEG" "$T/seg"; chown postgres: "$T/seg"
(cd "$PGDATA" && pa pg wal-push --repo "$REPO" --password-file "$PW" "$T/seg" 2>/dev/null) || true
cp "$T/seg" "$T/$SEG"; chown postgres: "$T/$SEG"
(cd "$PGDATA" && pa pg wal-push --repo "$REPO" --password-file "$PW" "$T/$SEG")
flip_byte "$T/$SEG" 100000
cd "$PGDATA"
expect_exit 15 pa pg wal-push --repo "$REPO" --password-file "$PW" "$T/$SEG"
err_contains "different content"
cd "$T"

step "errors: a target before the oldest backup, a missing WAL segment"
expect_exit 10 pa pg restore --repo "$REPO" --password-file "$PW" --to "$T/early" --time "2001-01-01 00:00:00+00"
err_contains "before the oldest base backup"
expect_exit 2 pa pg restore --repo "$REPO" --password-file "$PW" --to "$T/early" --time "yesterday"
err_contains "zone is required"
SYS=$(ls "$REPO/wal")
# Not the next-to-last archived segment: when little WAL followed the backup, that was the
# backup's own, which the backup holds, so the restore still worked.
FIRST_AFTER=$TARGET_SEG
[ -f "$REPO/wal/$SYS/00000001/$FIRST_AFTER" ] || fail "segment $FIRST_AFTER of the target is not in the archive"
mv "$REPO/wal/$SYS/00000001/$FIRST_AFTER" "$T/moved-seg"
pa pg check --repo "$REPO" --password-file "$PW" > "$T/check.out" && fail "pg check missed a gap"
grep -q "GAP\|missing" "$T/check.out" || fail "pg check does not name the gap: $(cat "$T/check.out")"
expect_exit 1 pa pg restore --repo "$REPO" --password-file "$PW" --from "$B1" --to "$T/gap/data" --start --port "$P1" --no-archive --time "$TARGET"
err_contains "does not hold WAL up to the recovery target"
mv "$T/moved-seg" "$REPO/wal/$SYS/00000001/$FIRST_AFTER"
echo "PASS"
