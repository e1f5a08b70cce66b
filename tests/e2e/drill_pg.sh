#!/usr/bin/env bash
# `arca drill run` on a real PostgreSQL with WAL archiving and a file tree (issue 21): a
# point-in-time drill to an incident between two known transactions (rows after it absent, RPO
# equal to the incident minus the last commit before it, within 1 s), a corruption scenario
# (restore to just before a DELETE: the rows are back), a broken foreign key failing the drill
# (exit 12, named), a missed RPO objective (exit 17), malformed drill files refused before anything
# is restored, the report stored in the repository (list, show, HTML), and a killed drill's
# scratch server and directory removed by the next run; a drill into an explicit data directory
# and port leaves the server running there, and refuses that directory once it holds data.
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
enable_archiving
q -c "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)" \
  -c "CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers, total numeric)" \
  -c "CREATE TABLE marks (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())" \
  -c "INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 200) g" \
  -c "INSERT INTO orders SELECT g, 1 + g % 200, g FROM generate_series(1, 2000) g"
mkdir -p "$T/etc/app"; echo "listen=8080" > "$T/etc/app/app.conf"; head -c 50000 /dev/urandom > "$T/etc/app/blob"
D() { a drill "$@" --repo "$REPO" --password-file "$PW"; }
# Its own scratch parent: another drill test running at the same time sweeps /tmp (and would take
# this test's killed-drill leftovers away before this test's own sweep could report them).
SCRATCH=$T/scratch
mkdir -m 755 "$SCRATCH"
scratch_left() { ls -d "$SCRATCH"/arca-drill-* 2>/dev/null || true; }

step "backups: PostgreSQL, then two known transactions and a DELETE; a file tree"
pa pg backup --repo "$REPO" --password-file "$PW" -q
pa backup --repo "$REPO" --password-file "$PW" "$T/etc/app" -q
q -c "INSERT INTO marks SELECT g FROM generate_series(1, 100) g"
LAST_COMMIT=$(q -c "SELECT extract(epoch FROM max(at)) FROM marks")
sleep 1.2
INCIDENT=$(q -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
sleep 1.2
q -c "INSERT INTO marks SELECT g FROM generate_series(101, 200) g"
sleep 1.2
BEFORE_DELETE=$(q -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
sleep 1.2
q -c "DELETE FROM orders WHERE id > 1000"
q -c "SELECT pg_switch_wal()" >/dev/null
q -c "CREATE TABLE later (id int)" -c "SELECT pg_switch_wal()" >/dev/null
wait_archived

step "a drill to an incident between the transactions: PostgreSQL and files validated, RTO and RPO measured"
cat > "$T/pitr.yaml" <<YAML
drill: e2e-pitr
incident-time: $INCIDENT
scratch: $SCRATCH
components:
  orders-db:
    kind: postgres
    source: $(pa snapshots --repo "$REPO" --password-file "$PW" --json | python3 -c 'import json,sys; print([s for s in json.load(sys.stdin) if s["source"]["kind"]=="postgres"][-1]["source"]["name"])')
    objectives: {rto: 15m, rpo: 5m}
    validate:
      sql:
        - {name: marks up to the incident, query: "SELECT count(*) FROM marks", expect: "= 100"}
        - {name: orders before the delete, query: "SELECT count(*) FROM orders", expect: "= 2000"}
  app-config:
    kind: files
    paths: [$T/etc/app]
    objectives: {rto: 10m, rpo: 24h}
    validate:
      files: [app.conf, $T/etc/app/blob]
      commands:
        - {name: listens on 8080, run: [grep, -c, listen=8080, "{path}/app.conf"], expect-output: "1"}
YAML
D run "$T/pitr.yaml" --markdown "$T/pitr.md" --html "$T/pitr.html" --report "$T/pitr.json" > "$T/pitr.out" \
  || { cat "$T/pitr.out" "$T/pitr.md" 2>/dev/null; fail "the drill failed"; }
python3 - "$T/pitr.json" "$INCIDENT" "$LAST_COMMIT" <<'PY'
import json, sys, datetime
j = json.load(open(sys.argv[1]))
incident = datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00")).timestamp()
last_commit = float(sys.argv[3])
assert j["passed"] and j["exit_code"] == 0, j
assert abs(j["incident_unix"] - incident) < 0.001, (j["incident_unix"], incident)
c = {x["name"]: x for x in j["components"]}
db, files = c["orders-db"], c["app-config"]
checks = {k["name"]: k for k in db["checks"]}
assert checks["marks up to the incident"]["status"] == "passed", checks
assert checks["orders before the delete"]["status"] == "passed", checks
assert checks["foreign keys"]["status"] == "passed", checks
# RPO: the incident minus the newest data recovered, the last commit before the incident.
assert abs(db["rpo_s"] - (incident - last_commit)) < 1.0, (db["rpo_s"], incident - last_commit)
assert db["rpo_ok"] is True and db["rto_ok"] is True, db
phases = [p["name"] for p in db["phases"]]
assert phases == ["locate", "restore", "start and WAL replay", "validate"], phases
assert all(p["end_s"] >= p["start_s"] >= 0 for p in db["phases"]), db["phases"]
assert abs(db["rto_s"] - db["phases"][-1]["end_s"]) < 1e-6, db
fc = {k["name"]: k["status"] for k in files["checks"]}
assert all(v == "passed" for v in fc.values()), fc
assert set(fc) >= {"restore complete", "manifest", "file app.conf", "listens on 8080"}, fc
assert files["rpo_s"] > 0 and files["rto_s"] > 0, files
PY
grep -q "^# Drill e2e-pitr: PASSED" "$T/pitr.md" || { cat "$T/pitr.md"; fail "markdown report"; }
grep -q 'class="ph restore"' "$T/pitr.html" || fail "the HTML report has no timeline"
! grep -qi "<script\|https\?://" "$T/pitr.html" || fail "the HTML report must be self-contained"
[ -z "$(scratch_left)" ] || fail "the drill left scratch directories: $(scratch_left)"

step "the report is stored in the repository: list and show"
D list > "$T/list.out"
grep -q "e2e-pitr  PASSED" "$T/list.out" || { cat "$T/list.out"; fail "drill list"; }
ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"][:10])' "$T/pitr.json")
D show "$ID" > "$T/show.md"
grep -q "marks up to the incident" "$T/show.md" || { cat "$T/show.md"; fail "drill show"; }

step "dr assess: GO from the newest points and the last drill; NO-GO names why"
D_assess() { a dr assess "$@" --repo "$REPO" --password-file "$PW"; }
D_assess "$T/pitr.yaml" --json > "$T/assess.json" || { cat "$T/assess.json"; fail "dr assess said NO-GO"; }
python3 - "$T/assess.json" "$ID" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["go"] is True, j
c = {x["name"]: x for x in j["components"]}
db = c["orders-db"]
assert db["go"] and db["rpo_ok"] and db["rto_ok"] and db["last_drill"].startswith(sys.argv[2]), db
assert 0 <= db["age_s"] < 300 and db["last_drill_rto_s"] > 0, db
PY
sed 's/rpo: 5m/rpo: 1s/; s/app-config:/new-config:/' "$T/pitr.yaml" > "$T/assess-bad.yaml"
sleep 1.2  # the newest commit older than the 1 s objective, however fast this host got here
expect_exit 17 D_assess "$T/assess-bad.yaml"
grep -q "NO-GO orders-db" "$T/.stdout" || { cat "$T/.stdout"; fail "dr assess: the RPO miss is not NO-GO"; }
grep -q "over the RPO objective of 1 s" "$T/.stdout" || { cat "$T/.stdout"; fail "dr assess: no reason for the RPO miss"; }
grep -q "never drilled: no recorded drill e2e-pitr restored a component named 'new-config'" "$T/.stdout" || { cat "$T/.stdout"; fail "dr assess: a never-drilled component"; }

step "corruption scenario: restore to just before the DELETE, the rows are back"
cat > "$T/undelete.yaml" <<YAML
drill: e2e-undelete
incident-time: $BEFORE_DELETE
scratch: $SCRATCH
components:
  orders-db:
    kind: postgres
    source: $(python3 -c 'import json,sys; print([c for c in json.load(open(sys.argv[1]))["components"] if c["name"]=="orders-db"][0]["source"])' "$T/pitr.json")
    recover-to: incident
    validate:
      sql:
        - {query: "SELECT count(*) FROM orders", expect: "= 2000"}
        - {query: "SELECT count(*) FROM marks", expect: "= 200"}
YAML
D run "$T/undelete.yaml" --no-record > "$T/undelete.out" || { cat "$T/undelete.out"; fail "the undelete drill failed"; }

step "into an explicit data directory and port: restored to before the DELETE, left running there"
TPORT=$(free_port)
sed -e 's/drill: e2e-undelete/drill: e2e-pgtarget/' -e "s|    recover-to: incident|    recover-to: incident\n    target: {data-dir: $T/pg-drill, port: $TPORT}|" \
  "$T/undelete.yaml" > "$T/pgtarget.yaml"
D run "$T/pgtarget.yaml" --no-record --json > "$T/pgtarget.json" || { cat "$T/pgtarget.json"; fail "the drill into a target failed"; }
python3 - "$T/pgtarget.json" "$TPORT" "$T/pg-drill" <<'PY'
import json, sys
db = json.load(open(sys.argv[1]))["components"][0]
k = {c["name"]: c for c in db["checks"]}
assert db["validated"] and db["error"] is None, db
assert "running on port %s" % sys.argv[2] in k["target"]["detail"] and sys.argv[3] in k["target"]["detail"], k["target"]
assert k["SELECT count(*) FROM orders"]["status"] == "passed", k
assert [p["name"] for p in db["phases"]] == ["locate", "restore", "start and WAL replay", "validate"], db["phases"]
assert db["rpo_s"] is not None and db["rpo_s"] > 0 and "newest commit" not in k, db  # asked the server
PY
[ "$(qp "$TPORT" -U postgres -c 'SELECT count(*) FROM orders')" = 2000 ] || fail "the server left running on $TPORT does not hold the rows"
expect_exit 2 D run "$T/pgtarget.yaml" --no-record
err_contains "components.orders-db.target.data-dir: $T/pg-drill is not empty"
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$T/pg-drill" -m fast -w stop >/dev/null

step "a missed RPO objective fails that objective (exit 17), the restore itself validated"
sed 's/rpo: 5m/rpo: 1s/; s/drill: e2e-pitr/drill: e2e-rpo/' "$T/pitr.yaml" > "$T/rpo.yaml"
expect_exit 17 D run "$T/rpo.yaml" --json
python3 - "$T/.stdout" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
db = [c for c in j["components"] if c["name"] == "orders-db"][0]
assert db["validated"] and db["rpo_ok"] is False and db["status"] == "objective missed", db
PY

step "a broken foreign key fails the drill (exit 12) and names the constraint"
q -c "SET session_replication_role = replica" -c "DELETE FROM customers WHERE id = 7"
pa pg backup --repo "$REPO" --password-file "$PW" -q
sed 's/drill: e2e-pitr/drill: e2e-fk/; /incident-time/d; /marks up to the incident/d; /orders before the delete/d' "$T/pitr.yaml" > "$T/fk.yaml"
sed -i 's/      sql:/      sql: []/' "$T/fk.yaml"
expect_exit 12 D run "$T/fk.yaml"
grep -q "FAIL\] foreign keys" "$T/.stdout" || { cat "$T/.stdout"; fail "the drill did not name the failed check"; }
grep -q "orders_customer_fkey" "$T/.stdout" || { cat "$T/.stdout"; fail "the constraint is not named"; }

step "malformed drill files are refused before anything is restored (exit 2, every error with its line)"
before=$(D list | wc -l)
printf 'drill: bad\ncomponents:\n  db: {kind: postgress, source: x}\n  f: {kind: files, paths: [/x], depends-on: [nope]}\n  g: {kind: files, paths: [/y], objectives: {rto: soon}}\n' > "$T/bad.yaml"
expect_exit 2 D run "$T/bad.yaml"
for want in "bad.yaml:3:" "postgress" "bad.yaml:4:" "no component named 'nope'" "bad.yaml:5:" "objectives.rto" "nothing was restored"; do
  err_contains "$want"
done
printf 'drill: cyc\ncomponents:\n  a: {kind: files, paths: [/x], depends-on: [b]}\n  b: {kind: files, paths: [/y], depends-on: [a]}\n' > "$T/cyc.yaml"
expect_exit 2 a drill check "$T/cyc.yaml"
err_contains "dependency cycle"
# A place it would write that is not usable: refused the same way, nothing written over.
printf 'drill: into-data\ncomponents:\n  f: {kind: files, paths: [%s], directory: %s}\n' "$T/etc/app" "$T/etc" > "$T/over.yaml"
expect_exit 2 D run "$T/over.yaml"
err_contains "is not empty"
[ "$(ls "$T/etc")" = app ] || fail "a refused drill wrote into $T/etc"
printf 'drill: noscratch\nscratch: %s\ncomponents:\n  f: {kind: files, paths: [%s]}\n' "$T/missing" "$T/etc/app" > "$T/noscratch.yaml"
expect_exit 2 D run "$T/noscratch.yaml"
err_contains "scratch directory $T/missing does not exist"
[ "$(D list | wc -l)" = "$before" ] || fail "a refused drill recorded something"
[ -z "$(scratch_left)" ] || fail "a refused drill created scratch directories"

step "a killed drill leaves nothing after the next run"
sed 's/drill: e2e-fk/drill: e2e-killed/' "$T/fk.yaml" > "$T/killed.yaml"
# The password from the environment (as a server's password-env): the scratch server's
# restore_command gets it in a credentials file in Arca's run directory, here in $TMPDIR.
mkdir -m 755 "$T/tmp"
TMPDIR=$T/tmp ARCA_PASSWORD=$(cat "$PW") "$ARCA" drill run "$T/killed.yaml" --repo "$REPO" > "$T/killed.out" 2>&1 &
DRILL=$!  # arca itself (a function would put a subshell in between)
for _ in $(seq 300); do
  compgen -G "$SCRATCH/arca-drill-e2e-killed-*/arca-verify-*/data/postmaster.pid" >/dev/null && break
  sleep 0.1
done
compgen -G "$T/tmp/arca-pg-*/credentials" >/dev/null || fail "the killed drill's server has no credentials file"
[ -n "$(scratch_left)" ] || { cat "$T/killed.out"; fail "the drill made no scratch directory to kill it in"; }
kill -9 "$DRILL"; wait "$DRILL" 2>/dev/null || true
LEFT=$(scratch_left)
# The scratch path is too deep for a Unix socket: the killed server's socket went to a short
# directory of its own (named in its postmaster.pid), which the sweep must remove too.
SOCKDIR=$(sed -n 5p "$(compgen -G "$SCRATCH/arca-drill-e2e-killed-*/arca-verify-*/data/postmaster.pid" | head -1)")
[[ $SOCKDIR == */arca-pgsock-* ]] || fail "expected the killed server's socket in a short directory, got '$SOCKDIR'"
TMPDIR=$T/tmp D run "$T/undelete.yaml" --no-record > /dev/null 2> "$T/err" || { cat "$T/err"; fail "the drill after the killed one failed"; }
err_contains "removed what a killed drill left"
[ -z "$(scratch_left)" ] || fail "left behind: $(scratch_left)"
[ ! -e "$SOCKDIR" ] || fail "the killed server's socket directory $SOCKDIR was left behind"
[ -z "$(ls -A "$T/tmp")" ] || fail "the killed server's run directory was left behind: $(ls -A "$T/tmp")"
! grep -rqF "$(cat "$PW")" "$T/tmp" || fail "a file under TMPDIR holds the repository's password"
for d in $LEFT; do
  ! pgrep -f -- "-D $d" >/dev/null || fail "a scratch server of the killed drill still runs in $d"
done
echo "PASS"
