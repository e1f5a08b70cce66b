#!/bin/bash
# Prometheus and Alertmanager against a real `arca server`: Prometheus scrapes /metrics with a
# bearer token and evaluates deploy/prometheus/arca-rules.yml; a backup plan whose source folder
# disappears raises ArcaBackupIncomplete, which Alertmanager delivers to a webhook with its labels;
# the folder comes back, the next backup succeeds and the alert is delivered again as resolved.
# A second plan whose folder never existed raises ArcaPlanNeverSucceeded. The rules are used as
# written except their `for:` durations, shortened in a test copy (minutes would not fit a test).

# The system's Python, not a version manager's shim: the test polls with it several times a second
# and a shim costs a second or more per start on a busy machine.
PY=/usr/bin/python3
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SERVER_PORT=$(free_port)
source "$(dirname "$0")/lib_server.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
RULES=$HERE/../../deploy/prometheus/arca-rules.yml
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
ALERTMANAGER=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
[ -x "$PROMETHEUS" ] && [ -x "$ALERTMANAGER" ] || fail "needs $PROMETHEUS and $ALERTMANAGER (Debian packages prometheus, prometheus-alertmanager)"

# Every process this test starts, stopped by PID on exit; then lib.sh's cleanup removes $T and
# exits with the test's status (given back to it as $?).
PIDS=()
stop_all() {
  local rc=$?
  set +e
  for p in "${PIDS[@]}" $SERVER_PID; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}" $SERVER_PID; do wait "$p" 2>/dev/null; done
  if [ $rc != 0 ]; then
    for f in server.log prometheus.log alertmanager.log; do
      [ -s "$T/$f" ] && { echo "=== $f (tail)" >&2; tail -15 "$T/$f" >&2; }
    done
  fi
  status() { return "$1"; }
  status $rc
  cleanup
}
trap stop_all EXIT

# prom_has PROMQL: Prometheus's query API answers PROMQL with at least one series.
prom_has() {
  curl -fsS --get --data-urlencode "query=$1" "http://127.0.0.1:$PROM_PORT/api/v1/query" |
    $PY -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["status"] == "success" and d["data"]["result"] else 1)'
}
target_up() {
  curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/targets" | $PY -c '
import json, sys
t = json.load(sys.stdin)["data"]["activeTargets"]
sys.exit(0 if len(t) == 1 and t[0]["health"] == "up" else 1)'
}
# notified STATUS ALERTNAME [LABEL=VALUE…]: the webhook received, after the mark (below), a
# notification whose alert ALERTNAME has status STATUS and every LABEL=VALUE; prints that alert's
# labels and annotations.
NOTIFIED_MARK=0
mark_notifications() { NOTIFIED_MARK=$( (cat "$T/notifications.jsonl" 2>/dev/null || true) | wc -l); }
notified() {
  [ -s "$T/notifications.jsonl" ] || return 1
  $PY - "$T/notifications.jsonl" "$NOTIFIED_MARK" "$@" <<'EOF'
import json, sys
log, mark, status, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
want = dict(a.split("=", 1) for a in sys.argv[5:])
for line in open(log).readlines()[mark:]:
    for a in json.loads(line)["alerts"]:
        l = a["labels"]
        if a["status"] == status and l.get("alertname") == name and all(l.get(k) == v for k, v in want.items()):
            print(json.dumps({"labels": l, "annotations": a["annotations"]}, sort_keys=True))
            sys.exit(0)
sys.exit(1)
EOF
}

step "repository, two sources and an arca server backing them up every 2 s"
init_repo
mkdir -p "$T/data"
echo "configuration v1" > "$T/data/app.conf"
cat > "$T/server.yaml" <<EOF
server:
  listen: "127.0.0.1:$SERVER_PORT"
  catalog: $T/catalog.db
repositories:
  main: {location: $REPO, password-env: ARCA_PASSWORD}
sources:
  app-config: {kind: files, repository: main, paths: [$T/data]}
  lost-config: {kind: files, repository: main, paths: [$T/never-created]}
plans:
  app-config-backup:
    source: app-config
    schedule: {every: 2s}
    run-on-create: true
  lost-config-backup:
    source: lost-config
    schedule: {every: 2s}
    run-on-create: true
EOF
make_token "$T/server.yaml" viewer
start_server "$T/server.yaml"

step "Alertmanager with a webhook receiver"
$PY "$HERE/alert_receiver.py" "$T/receiver.port" "$T/notifications.jsonl" &
PIDS+=($!)
wait_for 5 test -s "$T/receiver.port"
AM_PORT=$(free_port)
cat > "$T/alertmanager.yml" <<EOF
route:
  receiver: hook
  group_by: [alertname, plan]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$(cat "$T/receiver.port")/alerts
        send_resolved: true
EOF
"$ALERTMANAGER" --config.file="$T/alertmanager.yml" --storage.path="$T/am-data" \
  --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= > "$T/alertmanager.log" 2>&1 &
PIDS+=($!)

step "Prometheus scraping /metrics with the token, the rules with shortened for: durations"
# Only the `for:` durations change (minutes and hours → 2 s); expressions, labels and annotations
# are the shipped ones.
sed -E 's/^( +for: ).*$/\12s/' "$RULES" > "$T/arca-rules.yml"
grep -q 'for: 2s' "$T/arca-rules.yml" || fail "no for: durations rewritten in the test copy of $RULES"
PROM_PORT=$(free_port)
cat > "$T/prometheus.yml" <<EOF
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: [$T/arca-rules.yml]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["127.0.0.1:$AM_PORT"]}]
scrape_configs:
  - job_name: arca
    authorization: {credentials_file: $ARCA_TOKEN_FILE}
    static_configs: [{targets: ["127.0.0.1:$SERVER_PORT"]}]
EOF
/usr/bin/promtool check config "$T/prometheus.yml" > /dev/null || fail "promtool rejects the test's Prometheus configuration"
"$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom-data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" > "$T/prometheus.log" 2>&1 &
PIDS+=($!)
# While Prometheus starts (its first scrape comes ~5 s after it is ready), scrape Arca directly:
# docs/server_metrics.md promises the last-run state set (seven series) for every plan that has
# run, and the alert rules rely on it. If it vanished while the plan's next job is pending or
# running, each scrape that falls inside a job would make Prometheus mark the series stale:
# ArcaBackupIncomplete would resolve and fire again on every run, and a `for:` timer (as in
# ArcaPlanNeverSucceeded) would restart, never reaching a long job's plan.
step "arca's last-run series stay while the plan's next job runs"
$PY - "$ARCA_SERVER/metrics" "$ARCA_TOKEN_FILE" app-config-backup <<'EOF' || fail "see above"
import re, sys, time, urllib.request
url, token, plan = sys.argv[1], open(sys.argv[2]).read().strip(), sys.argv[3]
busy = re.compile(r'^arca_plan_jobs_(running|pending)\{plan="%s"\} ([0-9.]+)$' % re.escape(plan), re.M)
outcome = re.compile(r'^arca_plan_last_run_outcome\{[^}]*plan="%s"' % re.escape(plan), re.M)
has_run, during_jobs, missing, deadline = False, 0, 0, time.time() + 8
while time.time() < deadline and during_jobs < 20:
    time.sleep(0.005)
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    text = urllib.request.urlopen(req, timeout=5).read().decode()
    n = len(outcome.findall(text))
    if not has_run:
        has_run = n == 7
        continue
    if any(float(v) > 0 for _, v in busy.findall(text)):
        during_jobs += 1
        missing += n != 7
if not has_run or during_jobs == 0:
    sys.exit("inconclusive: no scrape of /metrics fell while a job of %s was pending or running" % plan)
if missing:
    sys.exit("arca_plan_last_run_outcome{plan=\"%s\"} was missing in %d of %d scrapes taken while the plan's "
             "next job was pending or running: the metrics take the newest job, not the newest finished one "
             "(PlanView::last_job is set when a job is created)" % (plan, missing, during_jobs))
print("last-run series present in all %d scrapes taken during jobs" % during_jobs)
EOF
wait_for 20 curl -fsS "http://127.0.0.1:$AM_PORT/-/ready"
wait_for 20 curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready"

step "the target is up and Arca's metrics are queryable"
wait_for 10 target_up
wait_for 15 prom_has 'arca_job_runs_total{plan="app-config-backup",kind="backup",outcome="success"} >= 1'
prom_has 'arca_scheduler_last_tick_timestamp_seconds' || fail "no scheduler tick metric in Prometheus"
prom_has 'arca_source_newest_point_timestamp_seconds{source="app-config",kind="files",repository="main"}' ||
  fail "no newest-point metric for source app-config"

step "a plan that never succeeded: ArcaPlanNeverSucceeded reaches the webhook"
wait_for 20 notified firing ArcaPlanNeverSucceeded plan=lost-config-backup source=lost-config severity=P1
notified firing ArcaPlanNeverSucceeded plan=app-config-backup && fail "ArcaPlanNeverSucceeded fired for a plan that succeeded"

step "the source folder disappears: ArcaBackupIncomplete reaches the webhook with its labels"
mark_notifications
mv "$T/data" "$T/data.away"
wait_for 20 notified firing ArcaBackupIncomplete plan=app-config-backup source=app-config kind=backup outcome=failed severity=P1
notified firing ArcaBackupIncomplete plan=app-config-backup outcome=failed > "$T/alert.json"
echo "firing: $(cat "$T/alert.json")"
grep -q '"summary": "Backup plan app-config-backup ended failed"' "$T/alert.json" ||
  fail "the alert's summary annotation is not the rule's template filled in"
grep -q '"runbook_url": "docs/runbooks.md#arcabackupincomplete"' "$T/alert.json" || fail "the alert has no runbook_url"

step "the folder comes back: the next backup succeeds and the alert resolves"
mark_notifications
mv "$T/data.away" "$T/data"
wait_for 20 notified resolved ArcaBackupIncomplete plan=app-config-backup source=app-config
wait_for 5 prom_has 'arca_plan_last_run_outcome{plan="app-config-backup",outcome="success"} == 1' ||
  fail "the alert resolved but Prometheus does not see the plan's newest run as a success"
notified firing ArcaBackupIncomplete plan=app-config-backup && fail "ArcaBackupIncomplete fired again after the folder came back"
echo "PASS"
