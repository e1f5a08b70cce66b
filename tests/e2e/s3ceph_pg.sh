#!/usr/bin/env bash
# PostgreSQL with the repository on S3 (Ceph radosgw): base backup, WAL archived by
# archive_command, point-in-time restore whose restore_command fetches WAL from the bucket,
# continuity check, and verify.
ARCA_TEST_ON_S3=1
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
enable_archiving
q -c "CREATE TABLE marks (id int PRIMARY KEY)"
pa pg backup --repo "$REPO" --password-file "$PW" -q
q -c "INSERT INTO marks SELECT generate_series(1, 100)"
sleep 1
TARGET=$(q -c "SELECT clock_timestamp()")
sleep 1
q -c "INSERT INTO marks SELECT generate_series(101, 200)" -c "SELECT pg_switch_wal()" >/dev/null
wait_archived

step "the archive on S3 is continuous"
pa pg check --repo "$REPO" --password-file "$PW" > "$T/check.out" || { cat "$T/check.out"; fail "gaps"; }

step "point-in-time restore with WAL fetched from the bucket"
P=$(free_port)
a pg restore --repo "$REPO" --password-file "$PW" --to "$T/pitr/data" --time "$TARGET" --start --port "$P" --no-archive -q
[ "$(qp "$P" -c "SELECT count(*), max(id) FROM marks")" = "100|100" ] || fail "PITR from S3: $(qp "$P" -c "SELECT count(*), max(id) FROM marks")"
grep -q 'restored log file' "$T/pitr/data/arca-server.log" || fail "no WAL came from the archive"
stop_restored "$T/pitr/data"

step "verify from S3"
a pg verify --repo "$REPO" --password-file "$PW" -q > "$T/v.out" || { cat "$T/v.out"; fail "verify failed"; }
echo "PASS"
