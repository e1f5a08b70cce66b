#!/usr/bin/env bash
# arca server keeping a replica filled (docs/replication.md, "In the server"): the replica's plan
# runs all the time; a backup's point reaches the replica within seconds (the backup wakes the
# replicator, whose own sweep interval is far longer); /metrics and /api/v1/status show the lag
# (0 when caught up) and what is pending; a replica that goes away makes copies fail (counted,
# the job FAILED with the reason) and replication resumes by itself once it is back; the replica
# restores byte for byte with only its own password; SIGTERM stops it all cleanly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_server.sh"
trap 'rc=$?; [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null; (exit $rc); cleanup' EXIT
py() { python3 -c "import json,sys; j=json.load(open(sys.argv[2])); print(eval(sys.argv[1]))" "$1" "$2"; }
metric() {  # metric NAME LABEL-REGEX: the value of the one series of NAME whose labels match
  grep -E "^$1\{[^}]*$2[^}]*\} " "$T/metrics" | awk '{print $2}'
}
fetch_metrics() { api /metrics > "$T/metrics"; }
DR=$T/dr
echo "$ARCA_PASSWORD" > "$T/password" && chmod 600 "$T/password"
echo "dr-site-password" > "$T/dr-password" && chmod 600 "$T/dr-password"
replica_points() { a snapshots --repo "$DR" --password-file "$T/dr-password" --json | py 'len(j)' /dev/stdin; }
replication() { api /api/v1/status | py "j['replications']['main.replicate.dr']['$1']" /dev/stdin; }
# within SECONDS EXPR: evaluates EXPR in this shell every 0.2 s until it succeeds; fails after SECONDS.
within() {
  local end=$((SECONDS + $1)); shift
  until eval "$*" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || {
      tail -30 "$T/server.log" >&2
      api /metrics | grep replica >&2
      api /api/v1/status | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["replications"], indent=1))' >&2
      fail "timed out waiting for: $*"
    }
    sleep 0.2
  done
}

step "a repository and its replica (init --like, its own password)"
mkdir -p "$T/app"
head -c 3000000 /dev/urandom > "$T/app/data.bin"
echo "listen 8080" > "$T/app/app.conf"
init_repo
a init --repo "$DR" --like "$REPO" --password-file "$T/dr-password" --like-password-file "$T/password" \
  --kdf-memory 8192 --kdf-time 1 -q
cat > "$T/server.yaml" <<EOF
server:
  listen: 127.0.0.1:$SERVER_PORT
  catalog: $T/catalog.db
repositories:
  main:
    location: $REPO
    password-file: $T/password
    replicas:
      dr: {location: $DR, interval: 1h}
sources:
  app-config:
    kind: files
    repository: main
    paths: [$T/app]
plans:
  app-daily:
    source: app-config
    schedule: {every: 1d}
EOF
a server check-config "$T/server.yaml" > /dev/null
make_token "$T/server.yaml"
start_server "$T/server.yaml"
within 20 '[ "$(replication copies)" -ge 1 ]'

step "a backup reaches the replica within seconds (the interval is 1 h: the backup wakes it)"
a plans run app-daily > /dev/null
t0=$SECONDS
within 30 '[ "$(replica_points)" = 1 ]'
echo "the point was on the replica $((SECONDS - t0)) s after the backup was started"
[ $((SECONDS - t0)) -le 15 ] || fail "the point took $((SECONDS - t0)) s to reach the replica"

step "metrics and status: caught up, nothing pending"
within 10 'api /metrics | grep -q "^arca_replication_pending_points{repository=\"main\",replica=\"dr\"} 0"'
fetch_metrics
[ "$(metric arca_replication_lag_seconds 'replica="dr"')" = 0 ] || { grep replication "$T/metrics"; fail "lag is not 0"; }
[ "$(metric arca_replication_failures_total 'replica="dr"')" = 0 ] || fail "failures counted"
[ -n "$(metric arca_replication_last_success_timestamp_seconds 'replica="dr"')" ] || fail "no last success"
[ -n "$(metric arca_replica_newest_data_timestamp_seconds 'replica="dr"')" ] || fail "no newest data on the replica"
api /api/v1/status > "$T/status.json"
[ "$(py 'j["replications"]["main.replicate.dr"]["lag"]["pending"]["points"]' "$T/status.json")" = 0 ] ||
  fail "status: points pending"
[ "$(py 'j["replications"]["main.replicate.dr"]["points_copied"]' "$T/status.json")" = 1 ] ||
  fail "status: the copied point is not counted"

step "the replica goes away: copies fail (counted, with the reason); back, it catches up by itself"
mv "$DR" "$DR.away"
echo "v2" >> "$T/app/app.conf"
a plans run app-daily > /dev/null
within 30 'api /metrics | grep -Eq "^arca_replication_failures_total\{repository=\"main\",replica=\"dr\"\} [1-9]"'
within 30 'replication last_error | grep -q "no repository at $DR"'
[ ! -e "$DR" ] || { find "$DR" | head; fail "the replicator recreated the replica's directory"; }
"$ARCA" jobs --plan main.replicate.dr --json > "$T/jobs.json"
py '[x["state"] + " " + x["reason"] for x in j["jobs"]]' "$T/jobs.json" | grep -q "FAILED no repository at $DR" || { cat "$T/jobs.json"; fail "no FAILED replication job"; }
mv "$DR.away" "$DR"
within 60 '[ "$(replica_points)" = 2 ]'
within 10 'api /metrics | grep -q "^arca_replication_lag_seconds{repository=\"main\",replica=\"dr\",.*} 0$"'

step "SIGTERM: the server and its replicator stop cleanly"
stop_server TERM
[ "$SERVER_RC" = 0 ] || { tail -20 "$T/server.log"; fail "arca server exited $SERVER_RC on SIGTERM"; }

step "the replica alone (the primary deleted, its own password) restores the newest point byte for byte"
rm -rf "$REPO"
a check --repo "$DR" --password-file "$T/dr-password" --read-data -q
a restore --repo "$DR" --password-file "$T/dr-password" latest --target "$T/out" -q
cmp "$T/app/data.bin" "$T/out/app/data.bin"
cmp "$T/app/app.conf" "$T/out/app/app.conf"
echo PASS
