# Helpers for the end-to-end tests of `arca server`: a configuration in $T, the server started in
# the background with its log in $T/server.log, an admin token, and the API and CLI clients
# pointed at it. Source after lib.sh (or lib_pg.sh, which sources it).
[ -n "${T:-}" ] || source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SERVER_PID=
server_free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SERVER_PORT=${SERVER_PORT:-$(server_free_port)}
export ARCA_SERVER=http://127.0.0.1:$SERVER_PORT
export ARCA_TOKEN_FILE=$T/token

# start_server CONFIG: starts `arca server --config CONFIG` and waits (up to 20 s) until /readyz answers.
start_server() {
  local config=$1
  "$ARCA" server --config "$config" >> "$T/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    curl -fsS "$ARCA_SERVER/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$T/server.log" >&2; fail "arca server exited at start"; }
    sleep 0.1
  done
  cat "$T/server.log" >&2; fail "arca server did not become ready within 20 s"
}
# stop_server [SIGNAL]: sends SIGTERM (or SIGNAL) and waits for the process; its exit code in $SERVER_RC.
stop_server() {
  local sig=${1:-TERM}
  kill -"$sig" "$SERVER_PID" 2>/dev/null || true
  set +e; wait "$SERVER_PID" 2>/dev/null; SERVER_RC=$?; set -e  # no "Killed" line from bash
  SERVER_PID=
}
# make_token CONFIG [ROLE]: an API token in $ARCA_TOKEN_FILE (default role admin).
make_token() {
  "$ARCA" server token create --config "$1" --name e2e --role "${2:-admin}" > "$ARCA_TOKEN_FILE" 2>/dev/null
  chmod 600 "$ARCA_TOKEN_FILE"
}
# api PATH [curl options…]: GET (or as the options say) with the token; the body on stdout.
api() {
  local path=$1; shift
  curl -fsS -H "Authorization: Bearer $(cat "$ARCA_TOKEN_FILE")" "$@" "$ARCA_SERVER$path"
}
# wait_for SECONDS CMD…: runs CMD every 0.2 s until it succeeds; fails after SECONDS.
wait_for() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || { tail -30 "$T/server.log" >&2; fail "timed out after ${secs}s waiting for: $*"; }
    sleep 0.2
  done
}
