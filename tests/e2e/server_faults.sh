#!/usr/bin/env bash
# `arca server` under faults: malformed configuration files (check-config and the server refuse
# them with FILE:LINE:COL, an inline secret in a readable file is refused), SIGHUP with a broken
# file (the old plans keep running) then a good one (applied, a running job untouched), the
# repository's disk full (that job FAILED, the server and other plans carry on, metrics count it),
# a Redis source down then back, kill -9 during a job (INTERRUPTED, retried as attempt 2; past its
# start window: not retried), SIGTERM during a job (CANCELED), and the repositories check clean.
# The API's error answers are in server_api_errors.sh. Needs root (tmpfs) and redis-server.
# A slow job is a Redis backup slowed down by Redis's own rdb-key-save-delay.
source "$(dirname "$0")/lib_redis.sh"
source "$(dirname "$0")/lib_server.sh"

# The API's JSON is compact with sorted keys: a job's top-level "attempt", "id" and "reason" come
# before its nested "result", and "state", "trigger" and "warnings" after it. The helpers read
# them with grep, not Python: they are polled, and Python's start costs seconds on a busy machine.
# state_of ID: the job's state.
state_of() { api "/api/v1/jobs/$1" | grep -o '"state":"[A-Z]*"' | tail -1 | cut -d'"' -f4; }
# run_plan PLAN: starts PLAN now through the API; prints the new job's id.
run_plan() { api "/api/v1/plans/$1/run" -X POST -H 'Content-Type: application/json' -d '{}' | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2; }
job_in_state() { [ "$(state_of "$1")" = "$2" ]; }
# job_ended ID: the job reached a final state (anything but PENDING or RUNNING).
job_ended() { local s; s=$(state_of "$1") && [ -n "$s" ] && [ "$s" != PENDING ] && [ "$s" != RUNNING ]; }
# newest_job [QUERY]: the id of the newest job (of those QUERY selects), 0 if none.
newest_job() { local id; id=$(api "/api/v1/jobs?limit=1${1:+&$1}" | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2); echo "${id:-0}"; }
# tick_newer_than ID STATE: plan tick has a job in STATE newer than job ID.
tick_newer_than() { [ "$(newest_job "plan=tick&state=$2")" -gt "$1" ]; }
# require_job ID STATE REASON-PATTERN: the job is in STATE, its reason (JSON text, null when
# none) matches the pattern; the job's JSON is left in $T/job.
require_job() {
  local id=$1 state=$2 pattern=$3 got reason
  api "/api/v1/jobs/$id" > "$T/job"
  got=$(grep -o '"state":"[A-Z]*"' "$T/job" | tail -1 | cut -d'"' -f4)
  reason=$(grep -o '"reason":\(null\|"\([^"\\]\|\\.\)*"\)' "$T/job" | head -1 | cut -d: -f2-)
  [ "$got" = "$state" ] || { tail -20 "$T/server.log" >&2; fail "job $id is $got (reason: $reason), expected $state"; }
  grep -Eqi -- "$pattern" <<< "$reason" || fail "job $id ($state): reason $reason does not match '$pattern'"
}
lineof() { grep -n -- "$1" "$2" | head -1 | cut -d: -f1; }  # lineof TEXT FILE: the first line holding TEXT
log_has() { grep -Eq -- "$1" "$T/server.log"; }
# slow_job PLAN: starts PLAN's Redis backup made slow (8 s), waits until it runs; prints its id.
slow_job() {
  local id
  rcli "$slow_PORT" CONFIG SET rdb-key-save-delay 200000 > /dev/null
  id=$(run_plan "$1")
  wait_for 10 job_in_state "$id" RUNNING
  echo "$id"
}
stopped_slow_job() {  # after the server stopped: a quick Redis again (Redis's fork child would still
  # stream the old RDB with the old delay to the next replica: stop it, by its parent's pid)
  rcli "$slow_PORT" CONFIG SET rdb-key-save-delay 0 > /dev/null
  for c in $(pgrep -P "$(cat "$T/slow/redis.pid")" || true); do kill -9 "$c" 2>/dev/null || true; done
}
server_alive() { kill -0 "$SERVER_PID" 2>/dev/null || { tail -30 "$T/server.log" >&2; fail "arca server died"; }; }

# --- data and servers ------------------------------------------------------------------------
mkdir -p "$T/conf" "$T/bulk" "$T/small"
for i in $(seq 1 20); do echo "setting $i" > "$T/conf/s$i.conf"; done
head -c 6000000 /dev/urandom > "$T/bulk/big.bin"   # twice what the 3 MiB repository disk holds
init_repo
echo "$ARCA_PASSWORD" > "$T/repo.pass"; chmod 600 "$T/repo.pass"
mount -t tmpfs -o size=3m tmpfs "$T/small" || fail "cannot mount a small tmpfs (the test needs root)"
init_repo "$T/small/repo"

# slow: 40 keys; with rdb-key-save-delay (µs per key) its RDB streams as slowly as we like.
start_redis slow
for i in $(seq 1 40); do echo "SET key:$i value-$i"; done | rcli "$slow_PORT" > /dev/null
start_redis down
rcli "$down_PORT" SET greeting hello > /dev/null

CONF=$T/server.yaml
write_config() {  # write_config [EXTRA-PLAN-YAML]: the good configuration, plus extra plan lines
  cat > "$CONF" <<EOF
server:
  listen: "127.0.0.1:$SERVER_PORT"
  catalog: $T/catalog.db
  shutdown-grace: 5s
  lease: 3s
repositories:
  main: {location: $REPO, password-file: $T/repo.pass}
  small: {location: $T/small/repo, password-file: $T/repo.pass}
sources:
  conf: {kind: files, repository: main, paths: [$T/conf]}
  bulk: {kind: files, repository: small, paths: [$T/bulk]}
  slowcache: {kind: redis, repository: main, url: "$slow_URL"}
  downcache: {kind: redis, repository: main, url: "$down_URL"}
plans:
  tick: {source: conf, schedule: {every: 1s}}
  slow: {source: slowcache, schedule: {cron: "@yearly"}}
  down: {source: downcache, schedule: {cron: "@yearly"}}
  fill: {source: bulk, schedule: {cron: "@yearly"}}
  windowed: {source: slowcache, schedule: {cron: "@yearly"}, start-window: 2s}
${1:-}
EOF
  chmod 600 "$CONF"
}
write_config
a server check-config "$CONF" > /dev/null

# --- 6. malformed configuration files --------------------------------------------------------
step "malformed configuration: check-config and the server report FILE:LINE:COL, exit 2, start nothing"
printf 'server:\n  listen: "127.0.0.1:%s"\n  catalog: %s\n  listen: [unclosed\n' "$SERVER_PORT" "$T/bad.db" > "$T/bad-yaml.yaml"
expect_exit 2 a server check-config "$T/bad-yaml.yaml"
err_contains "bad-yaml.yaml:5:1: not valid YAML"
expect_exit 2 a server --config "$T/bad-yaml.yaml"
err_contains "bad-yaml.yaml:5:1: not valid YAML"
err_contains "nothing started"
# A file that is valid YAML with two errors: both reported, each at its line and column.
sed -e 's/^  lease: 3s$/  lease: 3s\n  bogus-key: 1/' -e 's/source: downcache,/source: downcach,/' "$CONF" > "$T/bad-fields.yaml"
sed -i "s#catalog: .*#catalog: $T/bad.db#" "$T/bad-fields.yaml"
expect_exit 2 a server check-config "$T/bad-fields.yaml"
err_contains "bad-fields.yaml:$(lineof bogus-key "$T/bad-fields.yaml"):3: server.bogus-key: unknown field"
err_contains "bad-fields.yaml:$(lineof downcach, "$T/bad-fields.yaml"):18: plans.down.source: no source named 'downcach' under 'sources'"
err_contains "bad-fields.yaml: 2 errors"
expect_exit 2 a server --config "$T/bad-fields.yaml"
err_contains "bad-fields.yaml:$(lineof bogus-key "$T/bad-fields.yaml"):3: server.bogus-key: unknown field"
[ ! -e "$T/bad.db" ] || fail "a refused configuration still created its catalog"
! curl -s "$ARCA_SERVER/healthz" > /dev/null || fail "something listens on the port of a refused configuration"
# An inline secret (a password in the Redis URL) in a file others may read: refused with the hint.
sed -e "s#url: \"redis://127.0.0.1:#url: \"redis://:hunter2@127.0.0.1:#" -e "s#catalog: .*#catalog: $T/bad.db#" "$CONF" > "$T/secret.yaml"
chmod 644 "$T/secret.yaml"
expect_exit 2 a server check-config "$T/secret.yaml"
err_contains "secret.yaml:$(lineof hunter2 "$T/secret.yaml"):[0-9]*: sources.slowcache.url: holds a secret.*chmod 600 $T/secret.yaml"
expect_exit 2 a server --config "$T/secret.yaml"
err_contains "chmod 600"
grep -q hunter2 "$T/err" && fail "the refusal echoes the secret"
[ ! -e "$T/bad.db" ] || fail "a configuration with a readable secret still created its catalog"
chmod 600 "$T/secret.yaml"
a server check-config "$T/secret.yaml" > /dev/null || fail "the same file with mode 600 is refused"

# --- the server ------------------------------------------------------------------------------
make_token "$CONF"
start_server "$CONF"
wait_for 10 tick_newer_than 0 SUCCESS

# --- 2. SIGHUP with a broken file, then a good one -------------------------------------------
step "SIGHUP with a broken file keeps the running plans and says why"
reload_refused() {  # reload_refused NAME LOG-PATTERN: $CONF is broken; SIGHUP; old plans go on
  local name=$1 pattern=$2 before n
  n=$(grep -c "failed; the running configuration stays" "$T/server.log" || true)
  kill -HUP "$SERVER_PID"
  wait_for 5 eval "[ \$(grep -c 'failed; the running configuration stays' '$T/server.log') -gt $n ]"
  log_has "$pattern" || { tail -10 "$T/server.log" >&2; fail "$name: the log does not say '$pattern'"; }
  before=$(newest_job plan=tick)
  wait_for 5 tick_newer_than "$before" SUCCESS   # the old schedule still runs
  server_alive
}
cp "$CONF" "$T/good.yaml"
printf '  broken: {source: conf, schedule: {every: [1s}\n' >> "$CONF"
reload_refused "YAML error" "server.yaml:$(lineof broken: "$CONF"):[0-9]+: not valid YAML"
cp "$T/good.yaml" "$CONF"
sed -i 's/^  tick: {source: conf, schedule: {every: 1s}}$/  tick: {source: conf, schedule: {every: 1s}, colour: red}/' "$CONF"
reload_refused "unknown key" "server.yaml:$(lineof colour "$CONF"):[0-9]+: plans.tick.colour: unknown field"
cp "$T/good.yaml" "$CONF"
sed -i 's/^  slow: {source: slowcache,/  slow: {source: nocache,/' "$CONF"
reload_refused "unknown source" "server.yaml:$(lineof nocache "$CONF"):[0-9]+: plans.slow.source: no source named 'nocache'"
a plans > "$T/plans.txt"
grep -q "^added\b" "$T/plans.txt" && fail "a plan appeared before the good reload"

step "SIGHUP with a good file applies it and leaves a running job alone"
rcli "$slow_PORT" CONFIG SET rdb-key-save-delay 80000 > /dev/null   # 40 keys: about 3 s
running=$(run_plan slow)
wait_for 10 job_in_state "$running" RUNNING
write_config '  added: {source: conf, schedule: {cron: "@yearly"}}'
kill -HUP "$SERVER_PID"
wait_for 5 log_has "reloaded $CONF: 6 plans"
a plans > "$T/plans.txt"
grep -Eq "^added[[:space:]]" "$T/plans.txt" || { cat "$T/plans.txt" >&2; fail "the new plan is not listed after the reload"; }
wait_for 15 job_ended "$running"
require_job "$running" SUCCESS "^null$"
# The reload came while the job ran (else this proves nothing): the log says so in that order.
reloaded_at=$(grep -n "reloaded $CONF: 6 plans" "$T/server.log" | cut -d: -f1)
ended_at=$(grep -n "job $running (plan slow) SUCCESS" "$T/server.log" | cut -d: -f1)
[ "$reloaded_at" -lt "$ended_at" ] || fail "job $running ended before the reload: the test is inconclusive"
rcli "$slow_PORT" CONFIG SET rdb-key-save-delay 0 > /dev/null

# --- 3. the repository's disk full -----------------------------------------------------------
step "disk full under a repository: that job FAILED naming it, the server and other plans go on"
full=$(run_plan fill)
wait_for 20 job_ended "$full"
require_job "$full" FAILED "$T/small/repo/.*No space left on device"
server_alive
after=$(newest_job)   # created after fill's job ended
wait_for 6 tick_newer_than "$after" SUCCESS
api /metrics > "$T/metrics"
grep -Eq '^arca_job_runs_total\{plan="fill",kind="backup",outcome="failed"\} 1$' "$T/metrics" \
  || { grep arca_job_runs_total "$T/metrics" >&2; fail "metrics do not count fill's failed run"; }
grep -Eq '^arca_job_runs_total\{plan="tick",kind="backup",outcome="success"\} [1-9]' "$T/metrics" \
  || fail "metrics do not count tick's successes"

# --- 4. a source down ------------------------------------------------------------------------
step "a Redis source down: FAILED naming the connection; up again: the next run succeeds"
"$SERVERS/redis.sh" stop "$T/down"
job=$(run_plan down)
wait_for 15 job_ended "$job"
require_job "$job" FAILED "127\.0\.0\.1:$down_PORT.*(connect|refused)|(connect|refused).*127\.0\.0\.1:$down_PORT"
redis-server --port "$down_PORT" --bind 127.0.0.1 --dir "$T/down" --daemonize yes --pidfile "$T/down/redis.pid" \
  --logfile "$T/down/redis.log" --save "" --repl-diskless-sync-delay 0
wait_for 5 rcli "$down_PORT" ping
job=$(run_plan down)
wait_for 15 job_ended "$job"
require_job "$job" SUCCESS "^null$"

# --- 1. kill -9 during a job -----------------------------------------------------------------
step "kill -9 during a job: INTERRUPTED at the next start, retried (attempt 2)"
victim=$(slow_job slow)
sleep 0.5   # into its RDB stream
stop_server KILL
[ "$SERVER_RC" = 137 ] || fail "arca server exited $SERVER_RC after kill -9"
stopped_slow_job
start_server "$CONF"
require_job "$victim" INTERRUPTED '^"the server stopped while the job was running"$'
log_has "job $victim \(plan slow\) was INTERRUPTED by a server stop" || fail "the log does not report job $victim INTERRUPTED"
retry=$(grep -o "job [0-9]* retries job $victim\$" "$T/server.log" | cut -d' ' -f2)
[ -n "$retry" ] || { tail "$T/server.log" >&2; fail "the log names no retry of job $victim"; }
wait_for 15 job_ended "$retry"
require_job "$retry" SUCCESS "^\"retry of job $victim, interrupted by a server stop\"$"
grep -q '^{"attempt":2,' "$T/job" || fail "retry $retry is not attempt 2: $(cat "$T/job")"
grep -q "\"retry_of\":$victim," "$T/job" || fail "retry $retry is not retry_of $victim: $(cat "$T/job")"
grep -q '"state":"SUCCESS","trigger":"retry","warnings":0}$' "$T/job" || fail "retry $retry: trigger is not retry: $(cat "$T/job")"
# No job of the killed server is RUNNING or PENDING now: each one was interrupted (and retried)
# at the start, before the retry was created; newer ones are the new server's own.
for s in RUNNING PENDING; do
  for id in $(api "/api/v1/jobs?state=$s&limit=1000" | grep -o '"id":[0-9]*' | cut -d: -f2); do
    [ "$id" -gt "$retry" ] || fail "job $id of the killed server is still $s"
  done
done

step "kill -9, restarted after the job's start window: INTERRUPTED and not retried"
late=$(slow_job windowed)
stop_server KILL
stopped_slow_job
sleep 2.2   # the 2 s start window, counted from the job's creation, is over
start_server "$CONF"
require_job "$late" INTERRUPTED '^"the server stopped while the job was running'
log_has "job $late is not retried: its start window closed at " || fail "the log does not say why job $late is not retried"
! log_has "retries job $late\$" || fail "job $late was retried after its start window"
api "/api/v1/jobs/$late/events" | grep -q '"code":"job.not_retried".*start window closed' \
  || fail "job $late's events do not say why it was not retried"

step "a second server on the same catalog is refused and changes nothing"
sed "s/127.0.0.1:[0-9]*/127.0.0.1:$(server_free_port)/" "$CONF" > "$T/second.yaml"
chmod 600 "$T/second.yaml"
expect_exit 16 a server --config "$T/second.yaml"
err_contains "is in use by another arca server"
server_alive

step "SIGHUP while the file is away (an editor's rename) keeps the running configuration"
mv "$CONF" "$T/away.yaml"
reloads=$(grep -c "failed; the running configuration stays" "$T/server.log" || true)
kill -HUP "$SERVER_PID"
wait_for 5 eval "[ \$(grep -c 'failed; the running configuration stays' '$T/server.log') -gt $reloads ]"
server_alive
mv "$T/away.yaml" "$CONF"
[ "$(newest_job plan=windowed)" = "$late" ] || fail "a job of plan windowed was created after job $late"

step "SIGTERM during a job: the job is CANCELED, the server exits 0"
victim=$(slow_job slow)
stop_server TERM
stopped_slow_job
[ "$SERVER_RC" = 0 ] || { tail -20 "$T/server.log" >&2; fail "arca server exited $SERVER_RC on SIGTERM"; }
log_has "job $victim \(plan slow\) CANCELED after [0-9]+ s: the server is shutting down" \
  || { tail -5 "$T/server.log" >&2; fail "job $victim is not reported CANCELED at the stop"; }
step "the repositories check clean"
a check --repo "$REPO" -q || fail "the repository does not check clean after kill -9"
a check --repo "$T/small/repo" -q || fail "the full repository does not check clean"

echo PASS
