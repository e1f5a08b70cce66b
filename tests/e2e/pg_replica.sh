#!/usr/bin/env bash
# PostgreSQL on a replica (docs/replication.md): a base backup and the archived WAL are copied to
# a replica made by 'init --like' (the WAL in two copies: what a later copy adds arrives alone);
# with the primary repository and the primary server gone, a point-in-time restore from the
# replica alone, opened with its own password, has exactly the rows committed before the target.
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
enable_archiving
q -c "CREATE TABLE marks (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())"
q -c "INSERT INTO marks SELECT g FROM generate_series(1, 10) g"
pa pg backup --repo "$REPO" --password-file "$PW" -q
BASE=$(pa snapshots --repo "$REPO" --password-file "$PW" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')

step "a replica with its own password; the first copy brings the base backup and its WAL"
REP=$T/replica
echo replica-only-pass > "$T/rpw"
chown postgres: "$T/rpw"; chmod 600 "$T/rpw"
# As the server's user, like the primary: restore_command reads the replica as that user.
pa init --repo "$REP" --like "$REPO" --password-file "$T/rpw" --like-password-file "$PW" --kdf-memory 8192 --kdf-time 1 -q
pa copy --repo "$REPO" --password-file "$PW" --to "$REP" --json > "$T/c1.json"
python3 - "$T/c1.json" "$BASE" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert [p["id"] for p in d["copied"]] == [sys.argv[2]], d["copied"]
assert d["copied"][0]["source_kind"] == "postgres", d["copied"]
assert d["damaged"] == [], d
PY

step "rows after the base backup, with a recovery target between two inserts"
q -c "INSERT INTO marks SELECT g FROM generate_series(11, 100) g"
sleep 1
TARGET=$(q -c "SELECT clock_timestamp()")
sleep 1
q -c "INSERT INTO marks SELECT g FROM generate_series(101, 200) g"
q -c "SELECT pg_switch_wal()" >/dev/null
q -c "CREATE TABLE later (id int)" -c "SELECT pg_switch_wal()" >/dev/null
wait_archived
SYS=$(ls "$REPO/wal")

step "the second copy brings only the new WAL"
pa copy --repo "$REPO" --password-file "$PW" --to "$REP" --json > "$T/c2.json"
python3 - "$T/c2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["copied"] == [] and d["present"] == 1 and d["blobs"] == 0, d
assert d["wal_objects"] >= 2 and d["wal_bytes"] > 0, d
PY
# The WAL of the primary from the base backup on is on the replica, byte for byte: what is not
# there is older than the base backup (below the replica's floor), and the newest segment is.
python3 - "$REPO" "$REP" "$SYS" <<'PY'
import os, sys
pri, rep, sysid = sys.argv[1:]
def objects(root):
    base = os.path.join(root, "wal", sysid)
    return {os.path.relpath(os.path.join(d, f), base) for d, _, fs in os.walk(base) for f in fs}
ours, theirs = objects(pri), objects(rep)
assert theirs, "no WAL on the replica"
for o in theirs:
    a, b = (open(os.path.join(r, "wal", sysid, o), "rb").read() for r in (pri, rep))
    assert a == b, f"WAL object {o} differs on the replica"
segments = lambda names: sorted(n for n in names if len(os.path.basename(n)) == 24)
floor = segments(theirs)[0]
missing = ours - theirs
assert all(os.path.basename(o) < os.path.basename(floor) for o in missing), (floor, sorted(missing))
assert segments(ours)[-1] in theirs, ("the newest segment was not copied", segments(ours)[-1])
print(f"WAL on the replica: {len(theirs)} objects from {floor}; {len(missing)} older ones left in the primary")
PY
pa copy --repo "$REPO" --password-file "$PW" --to "$REP" --json > "$T/c3.json"
[ "$(json_field "$T/c3.json" '["wal_objects"]')" = 0 ] || fail "a third copy copied WAL again"

step "the primary server and repository are gone"
stop_restored "$PGDATA"
rm -rf "$REPO"

step "the replica alone, with its own password: pg check, then point-in-time restore"
# Neither the primary's password nor its repository: only the replica's password file (the
# restored server's restore_command reads the replica with it).
ra() { env -u ARCA_PASSWORD "$ARCA" "$@"; }
ra pg check --repo "$REP" --password-file "$T/rpw" > "$T/check.out" || { cat "$T/check.out"; fail "pg check on the replica found gaps"; }
grep -q continuous "$T/check.out" || fail "pg check on the replica: $(cat "$T/check.out")"
P1=$(free_port)
ra pg restore --repo "$REP" --password-file "$T/rpw" --to "$T/pitr/data" --time "$TARGET" --start --port "$P1" --no-archive -q
[ "$(qp "$P1" -c "SELECT count(*), min(id), max(id) FROM marks")" = "100|1|100" ] || {
  tail -3 "$T/pitr/data/arca-server.log"; echo "target $TARGET"
  fail "PITR from the replica: $(qp "$P1" -c "SELECT count(*), min(id), max(id) FROM marks") instead of 100|1|100"
}
[ "$(qp "$P1" -c "SELECT pg_is_in_recovery()")" = f ] || fail "the server restored from the replica was not promoted"
stop_restored "$T/pitr/data"

step "latest from the replica has every row"
P2=$(free_port)
ra pg restore --repo "$REP" --password-file "$T/rpw" --to "$T/latest/data" --start --port "$P2" --no-archive -q
[ "$(qp "$P2" -c "SELECT count(*), min(id), max(id) FROM marks")" = "200|1|200" ] || fail "latest restore from the replica: $(qp "$P2" -c "SELECT count(*) FROM marks") rows"
[ "$(qp "$P2" -c "SELECT to_regclass('later') IS NOT NULL")" = t ] || fail "latest restore from the replica lacks the last table"
stop_restored "$T/latest/data"
echo PASS
