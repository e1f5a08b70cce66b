#!/usr/bin/env bash
# `arca dr assess` measures a PostgreSQL component's age from the newest commit in the WAL archived
# after its base backup (docs/drills.md, "Assessing readiness"): on a real PostgreSQL whose WAL
# is archived by `arca pg wal-push`, with nothing archived after the backup the age is the
# backup's end (and says so); after rows committed and WAL switched, the age is within a second of
# the last commit (far younger than the backup), and a 5-minute RPO objective is met: GO.
source "$(dirname "$0")/lib_pg.sh"

start_pg
pg_init_repo
enable_archiving
q -c "CREATE TABLE events (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp()) WITH (autovacuum_enabled = off)" \
  -c "INSERT INTO events SELECT g FROM generate_series(1, 100) g"
SCRATCH=$T/scratch
mkdir -m 755 "$SCRATCH"
assess() { a dr assess "$@" --repo "$REPO" --password-file "$PW"; }
# The PostgreSQL component of an assessment (JSON in $1) as Python sees it.
component() { python3 -c 'import json,sys; print(json.dumps([c for c in json.load(open(sys.argv[1]))["components"] if c["name"] == "db"][0]))' "$1"; }

step "a base backup, nothing archived after it: the age is the backup's end, and says so"
pa pg backup --repo "$REPO" --password-file "$PW" -q
SOURCE=$(pa snapshots --repo "$REPO" --password-file "$PW" --json |
  python3 -c 'import json,sys; print([s for s in json.load(sys.stdin) if s["source"]["kind"]=="postgres"][-1]["source"]["name"])')
STOP=$(pa snapshots --repo "$REPO" --password-file "$PW" --json |
  python3 -c 'import json,sys; print([s for s in json.load(sys.stdin) if s["source"]["kind"]=="postgres"][-1]["metadata"]["stop_time"]["value"])')
cat > "$T/assess.yaml" <<YAML
drill: e2e-assess
scratch: $SCRATCH
components:
  db:
    kind: postgres
    source: $SOURCE
    objectives: {rto: 15m, rpo: 5m}
    validate:
      sql:
        - {name: events, query: "SELECT count(*) FROM events", expect: ">= 100"}
YAML
assess "$T/assess.yaml" --json > "$T/a1.json" || true  # NO-GO: never drilled yet
component "$T/a1.json" > "$T/c1.json"
python3 - "$T/c1.json" "$STOP" <<'PY'
import datetime, json, sys
c = json.load(open(sys.argv[1]))
stop = datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00")).timestamp()
assert c["age_basis"].startswith("base backup end at "), c
newest = datetime.datetime.fromisoformat(c["newest_data_time"].replace("Z", "+00:00")).timestamp()
assert abs(newest - stop) < 1.01, (newest, stop, c)
assert c["rpo_ok"] is True, c
PY

step "a drill records the component (otherwise it is never-drilled, NO-GO)"
a drill run "$T/assess.yaml" --repo "$REPO" --password-file "$PW" -q || fail "the drill failed"

step "rows committed and WAL switched after the backup: the age is the last commit's"
sleep 4  # the backup's end is then clearly older than the commit
q -c "INSERT INTO events SELECT g FROM generate_series(101, 200) g"
COMMITTED=$(q -c "SELECT extract(epoch FROM clock_timestamp())")  # just after the commit
q -c "SELECT pg_switch_wal()" >/dev/null
wait_archived
BEFORE=$(date +%s.%N)
assess "$T/assess.yaml" --json > "$T/a2.json" || { cat "$T/a2.json"; fail "dr assess said NO-GO"; }
AFTER=$(date +%s.%N)
component "$T/a2.json" > "$T/c2.json"
python3 - "$T/a2.json" "$T/c2.json" "$COMMITTED" "$STOP" "$BEFORE" "$AFTER" <<'PY'
import datetime, json, sys
a, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
committed, before, after = float(sys.argv[3]), float(sys.argv[5]), float(sys.argv[6])
stop = datetime.datetime.fromisoformat(sys.argv[4].replace("Z", "+00:00")).timestamp()
ts = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
assert a["go"] is True and c["go"] and c["rpo_ok"], a
assert c["age_basis"].startswith("newest commit in archived WAL at "), c
newest = ts(c["newest_data_time"])
assert committed - 1 < newest <= committed + 0.001, (newest, committed)  # the INSERT's commit
assert newest > stop + 3, (newest, stop)
# age = now - the commit, with now between the two clock readings around the call
assert before - committed - 1 < c["age_s"] < after - committed + 1, (c["age_s"], before, after, committed)
PY

step "an RPO objective the commit's age misses is NO-GO, and the text says what the age is from"
sed 's/rpo: 5m/rpo: 1s/' "$T/assess.yaml" > "$T/tight.yaml"
sleep 1.5
expect_exit 17 assess "$T/tight.yaml"
grep -q "over the RPO objective of 1 s (from the newest commit in archived WAL at .*, LSN " "$T/.stdout" ||
  { cat "$T/.stdout"; fail "dr assess: the RPO miss does not say what the age is from"; }
echo "OK"
