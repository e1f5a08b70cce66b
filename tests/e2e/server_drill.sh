#!/usr/bin/env bash
# arca server with drill plans (docs/server.md, "Drill plans"): a drill file's errors are the
# configuration's (check-config names the drill file's line); a passing drill and a failing one
# run on creation; their jobs end SUCCESS and FAILED (the reason names the missing file); the
# objectives came from the source; /api/v1/drills, arca status and /metrics show the results; the
# records are in the repository (arca drill list), and a new catalog rebuilt from the repository
# knows the drill history.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_server.sh"
# The test's own status reaches cleanup (which exits with it), whatever the kill returns.
trap 'rc=$?; [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null; (exit $rc); cleanup' EXIT
py() { python3 -c "import json,sys; j=json.load(open(sys.argv[2])); print(eval(sys.argv[1]))" "$1" "$2"; }

step "a repository with one backup of the application's configuration"
mkdir -p "$T/app/certs" "$T/scratch"
echo "listen 8080" > "$T/app/app.conf"
head -c 20000 /dev/urandom > "$T/app/certs/server.pem"
init_repo
echo "$ARCA_PASSWORD" > "$T/password" && chmod 600 "$T/password"
a backup --repo "$REPO" --host app-1 -q "$T/app"

cat > "$T/ok.yaml" <<EOF
drill: config-drill
scratch: $T/scratch
components:
  app:
    kind: files
    paths: [$T/app]
    host: app-1
    validate:
      files: [app.conf, certs/server.pem]
EOF
cat > "$T/bad.yaml" <<EOF
drill: broken-drill
scratch: $T/scratch
components:
  app:
    kind: files
    paths: [$T/app]
    validate:
      files: [app.conf, missing.txt]
EOF
write_config() {
  cat > "$T/server.yaml" <<EOF
server:
  listen: 127.0.0.1:$SERVER_PORT
  catalog: $T/catalog.db
repositories:
  main: {location: $REPO, password-file: $T/password}
sources:
  app-config:
    kind: files
    repository: main
    host: app-1
    paths: [$T/app]
    objectives: {rto: 10m, rpo: 24h}
plans:
  drill-ok:
    kind: drill
    drill: $1
    schedule: {every: 1d}
    run-on-create: true
  drill-bad:
    kind: drill
    drill: bad.yaml
    schedule: {every: 1d}
    run-on-create: true
EOF
}

step "check-config reports a drill file's error with the drill file's line and field"
printf 'drill: x\ncomponents:\n  app:\n    kind: filez\n' > "$T/typo.yaml"
write_config typo.yaml
expect_exit 2 a server check-config "$T/server.yaml"
err_contains "plans.drill-ok.drill: $T/typo.yaml:4:11: components.app.kind"
write_config ok.yaml
a server check-config "$T/server.yaml" > /dev/null

step "both drills run on creation: one SUCCESS, one FAILED naming the missing file"
make_token "$T/server.yaml"
start_server "$T/server.yaml"
final() { api "/api/v1/jobs?plan=$1" | grep -Eq '"state":"(SUCCESS|FAILED)"'; }
wait_for 30 final drill-ok
wait_for 30 final drill-bad
api "/api/v1/jobs?plan=drill-ok" > "$T/ok.json"
api "/api/v1/jobs?plan=drill-bad" > "$T/bad.json"
[ "$(py 'j["jobs"][0]["state"]' "$T/ok.json")" = SUCCESS ] || fail "drill-ok: $(cat "$T/ok.json")"
[ "$(py 'j["jobs"][0]["kind"]' "$T/ok.json")" = drill ] || fail "job kind is not drill"
[ "$(py 'j["jobs"][0]["result"]["drill"]' "$T/ok.json")" = config-drill ] || fail "the result is not the drill report"
# The component took its source's objectives (10m, 24h): the drill file gives none.
[ "$(py 'j["jobs"][0]["result"]["components"][0]["rto_objective_s"]' "$T/ok.json")" = 600 ] ||
  fail "RTO objective not from the source: $(py 'j["jobs"][0]["result"]["components"][0]' "$T/ok.json")"
[ "$(py 'j["jobs"][0]["state"]' "$T/bad.json")" = FAILED ] || fail "drill-bad: $(cat "$T/bad.json")"
py 'j["jobs"][0]["reason"]' "$T/bad.json" | grep -q "drill broken-drill failed: app: .*missing.txt" ||
  fail "reason: $(py 'j["jobs"][0]["reason"]' "$T/bad.json")"

step "/api/v1/drills, arca status and /metrics"
api /api/v1/drills > "$T/drills.json"
[ "$(py 'sorted((d["drill"], d["passed"]) for d in j["drills"])' "$T/drills.json")" = "[('broken-drill', False), ('config-drill', True)]" ] ||
  fail "drills: $(cat "$T/drills.json")"
[ "$(py '[d["source"] for d in j["passed"]]' "$T/drills.json")" = "['app-config']" ] || fail "passed: $(cat "$T/drills.json")"
a status --json > "$T/status.json"
[ "$(py 'j["components"][0]["last_passed_drill"]["drill"]' "$T/status.json")" = config-drill ] ||
  fail "status: $(cat "$T/status.json")"
api /metrics > "$T/metrics"
grep -Eq '^arca_drill_validated\{drill="config-drill",component="app",kind="files",source="app-config"\} 1$' "$T/metrics" ||
  fail "arca_drill_validated: $(grep arca_drill_validated "$T/metrics")"
grep -Eq '^arca_drill_validated\{drill="broken-drill",.*\} 0$' "$T/metrics" || fail "the failed drill's validated is not 0"
ts=$(grep -E '^arca_source_last_drill_success_timestamp_seconds\{source="app-config"' "$T/metrics" | awk '{print $2}')
[ -n "$ts" ] && [ "${ts%.*}" -gt 1700000000 ] || fail "last drill success of app-config: '$ts'"
[ -z "$(ls -A "$T/scratch")" ] || fail "scratch left behind: $(ls "$T/scratch")"
stop_server
[ "$SERVER_RC" = 0 ] || fail "server exit $SERVER_RC"

step "the records are in the repository; a new catalog rebuilt from it knows them"
[ "$(a drill list --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
  fail "arca drill list does not show both drills"
rm -f "$T"/catalog.db*
a server catalog rebuild --config "$T/server.yaml" --json > "$T/rebuild.json"
[ "$(py 'j["repositories"][0]["drills"]' "$T/rebuild.json")" = 2 ] || fail "rebuild: $(cat "$T/rebuild.json")"
make_token "$T/server.yaml"  # tokens live in the catalog
start_server "$T/server.yaml"
api /api/v1/drills > "$T/drills2.json"
[ "$(py 'sorted(d["drill"] for d in j["passed"])' "$T/drills2.json")" = "['config-drill']" ] ||
  fail "after rebuild: $(cat "$T/drills2.json")"
stop_server
echo "PASS"
