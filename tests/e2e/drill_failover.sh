#!/usr/bin/env bash
# A failover drill (issue 21 item 5, docs/drills.md "Failover drills"): a PostgreSQL component
# with `failover: true` is restored as a warm standby, catches up on the WAL archived after its
# base backup, is promoted and validated. In scratch: the promoted server held the last row (RPO
# within 1 s of the known last commit) and took an INSERT, the phases include catch-up and
# promote, the failover time is reported, nothing is left. Into an explicit data directory and
# port: left running, promoted, it takes writes. A killed failover drill's standby and directories
# are removed by the next run. A failover with a recovery target is refused before anything is
# restored (exit 2, with its line and field).
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
enable_archiving
q -c "CREATE TABLE marks (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())" \
  -c "INSERT INTO marks SELECT g FROM generate_series(1, 10) g"
D() { a drill "$@" --repo "$REPO" --password-file "$PW"; }
SCRATCH=$T/scratch
mkdir -m 755 "$SCRATCH"
scratch_left() { ls -d "$SCRATCH"/arca-drill-* 2>/dev/null || true; }

step "a base backup, then rows only the archived WAL holds"
pa pg backup --repo "$REPO" --password-file "$PW" -q
SOURCE=$(pa snapshots --repo "$REPO" --password-file "$PW" --json |
  python3 -c 'import json,sys; print([s for s in json.load(sys.stdin) if s["source"]["kind"]=="postgres"][-1]["source"]["name"])')
q -c "INSERT INTO marks SELECT g FROM generate_series(11, 20) g"
LAST_COMMIT=$(q -c "SELECT extract(epoch FROM max(at)) FROM marks")
q -c "SELECT pg_switch_wal()" >/dev/null
wait_archived

step "failover in scratch: standby caught up, promoted, validated (it takes an INSERT), RPO from the last commit"
cat > "$T/fo.yaml" <<YAML
drill: e2e-failover
scratch: $SCRATCH
components:
  orders-db:
    kind: postgres
    source: $SOURCE
    failover: {catch-up-timeout: 60s}
    objectives: {rto: 15m, rpo: 5m}
    validate:
      sql:
        - {name: the last row, query: "SELECT max(id) FROM marks", expect: "= 20"}
        - {name: takes an insert, query: "WITH i AS (INSERT INTO marks (id) VALUES (21) RETURNING id) SELECT count(*) FROM i", expect: "= 1"}
YAML
D run "$T/fo.yaml" --report "$T/fo.json" --markdown "$T/fo.md" --html "$T/fo.html" > "$T/fo.out" \
  || { cat "$T/fo.out" "$T/fo.md" 2>/dev/null; fail "the failover drill failed"; }
python3 - "$T/fo.json" "$LAST_COMMIT" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
last_commit = float(sys.argv[2])
assert j["passed"] and j["exit_code"] == 0, j
db = j["components"][0]
phases = [p["name"] for p in db["phases"]]
assert phases == ["locate", "restore", "start", "catch-up", "promote", "validate"], phases
assert all(p["end_s"] >= p["start_s"] >= 0 for p in db["phases"]), db["phases"]
ph = {p["name"]: p for p in db["phases"]}
# The failover itself: promote + validate, apart from the restore and catch-up before it.
took = lambda n: ph[n]["end_s"] - ph[n]["start_s"]
assert abs(db["failover_s"] - (took("promote") + took("validate"))) < 0.05, (db["failover_s"], db["phases"])
assert 0 < db["failover_s"] < db["rto_s"], db
assert abs(db["rto_s"] - ph["validate"]["end_s"]) < 1e-6, db
k = {c["name"]: c for c in db["checks"]}
assert all(c["status"] == "passed" for c in k.values()), k
# Seen through the startup process's wait (else it would have taken two restore_command retries).
assert "asked for the next segment" in k["caught up"]["detail"], k["caught up"]
assert set(k) >= {"caught up", "promoted", "read-write", "the last row", "takes an insert"}, k
# RPO: the incident (the drill's start) minus the last commit the standby replayed.
assert abs(db["rpo_s"] - (j["incident_unix"] - last_commit)) < 1.0, (db["rpo_s"], j["incident_unix"] - last_commit)
assert abs(db["newest_data_unix"] - last_commit) < 1.0, (db["newest_data_unix"], last_commit)
assert db["rpo_ok"] is True and db["rto_ok"] is True, db
PY
grep -q "^\*\*Failover\*\* (promote + validate" "$T/fo.md" || { cat "$T/fo.md"; fail "the Markdown report lacks the failover time"; }
grep -q "| promote |" "$T/fo.md" || { cat "$T/fo.md"; fail "the Markdown report lacks the promote phase"; }
grep -q 'class="ph promote"' "$T/fo.html" || fail "the HTML timeline lacks the promote phase"
[ -z "$(scratch_left)" ] || fail "the failover drill left scratch directories: $(scratch_left)"
! pgrep -f -- "-D $SCRATCH/" >/dev/null || fail "the scratch standby still runs"

step "failover into an explicit data directory and port: promoted, left running, takes writes"
TPORT=$(free_port)
sed -e 's/drill: e2e-failover/drill: e2e-failover-target/' \
  -e "s|    failover: {catch-up-timeout: 60s}|    failover: true\n    target: {data-dir: $T/pg-standby, port: $TPORT}|" \
  -e '/takes an insert/d' "$T/fo.yaml" > "$T/fo-target.yaml"
D run "$T/fo-target.yaml" --no-record --json > "$T/fo-target.json" \
  || { cat "$T/fo-target.json"; fail "the failover drill into a target failed"; }
python3 - "$T/fo-target.json" "$TPORT" "$T/pg-standby" <<'PY'
import json, sys
db = json.load(open(sys.argv[1]))["components"][0]
k = {c["name"]: c for c in db["checks"]}
assert db["validated"] and db["error"] is None, db
assert [p["name"] for p in db["phases"]] == ["locate", "restore", "start", "catch-up", "promote", "validate"], db["phases"]
assert "running on port %s" % sys.argv[2] in k["target"]["detail"] and sys.argv[3] in k["target"]["detail"], k["target"]
assert "promoted" in k["target"]["detail"] and "archive_command" in k["promoted"]["detail"], k
assert k["the last row"]["status"] == "passed" and db["failover_s"] > 0, db
PY
[ "$(qp "$TPORT" -U postgres -c 'SELECT pg_is_in_recovery()')" = f ] || fail "the target server is not promoted"
qp "$TPORT" -U postgres -c "INSERT INTO marks (id) VALUES (22)"
[ "$(qp "$TPORT" -U postgres -c 'SELECT max(id) FROM marks')" = 22 ] || fail "the promoted target lost a write"
[ ! -e "$T/pg-standby/standby.signal" ] || fail "standby.signal left after promotion"
stop_restored "$T/pg-standby"

step "a killed failover drill: its standby, scratch and private run directory are removed by the next run"
"$ARCA" drill run "$T/fo.yaml" --no-record --repo "$REPO" --password-file "$PW" > "$T/killed.out" 2>&1 &
DRILL=$!  # arca itself (a function would put a subshell in between)
PIDFILE= RUNDIR=
for _ in $(seq 300); do
  # Line 5 (the socket directory) is written once the server has made its socket.
  PIDFILE=$(compgen -G "$SCRATCH/arca-drill-e2e-failover-*/data/postmaster.pid" | head -1) || true
  [ -n "$PIDFILE" ] && RUNDIR=$(sed -n 5p "$PIDFILE" 2>/dev/null) && [ -n "$RUNDIR" ] && break
  sleep 0.05
done
[ -n "$RUNDIR" ] || { cat "$T/killed.out"; fail "the drill started no standby to kill it under"; }
kill -9 "$DRILL"; wait "$DRILL" 2>/dev/null || true
LEFT=$(scratch_left)
[[ $RUNDIR == */arca-pg-* ]] || fail "expected the standby's socket in Arca's run directory, got '$RUNDIR'"
# Any drill with the same scratch parent sweeps first; this one then fails at once (no such point).
printf 'drill: sweep\nscratch: %s\ncomponents:\n  f: {kind: files, paths: [/nonexistent-arca]}\n' "$SCRATCH" > "$T/sweep.yaml"
expect_exit 12 D run "$T/sweep.yaml" --no-record
err_contains "removed what a killed drill left"
[ -z "$(scratch_left)" ] || fail "left behind: $(scratch_left)"
[ ! -e "$RUNDIR" ] || fail "the killed standby's run directory $RUNDIR was left behind"
for d in $LEFT; do
  ! pgrep -f -- "-D $d" >/dev/null || fail "the killed drill's standby still runs in $d"
done

step "failover with a recovery target: refused before anything is restored (exit 2, line and field)"
sed -e 's/drill: e2e-failover/drill: e2e-failover-bad/' \
  -e 's|    failover: {catch-up-timeout: 60s}|    failover: true\n    recover-to: {time: "2026-01-01T00:00:00Z"}|' \
  "$T/fo.yaml" > "$T/fo-bad.yaml"
before=$(D list | wc -l)
expect_exit 2 D run "$T/fo-bad.yaml"
err_contains "fo-bad.yaml:8:"
err_contains "components.orders-db.recover-to"
err_contains "only recover-to: latest"
[ -z "$(scratch_left)" ] || fail "a refused failover drill created scratch directories"
[ "$(D list | wc -l)" = "$before" ] || fail "a refused failover drill recorded something"
echo "PASS"
