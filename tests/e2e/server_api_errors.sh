#!/usr/bin/env bash
# `arca server`'s API refuses what it must, with the status the docs give, and stays up: no,
# wrong or revoked token -> 401 (also /metrics), /healthz open, a viewer's POST -> 403, a body
# that is not JSON -> 400, a huge one -> 413, an unknown plan -> 404, cancelling a finished job
# -> 409; and the CLI clients' exit codes: a wrong token 11, no server 10.
source "$(dirname "$0")/lib_server.sh"

# status [curl options…] PATH: the HTTP status of a request (no token unless the options give one);
# the body in $T/body.
status() {
  local path=${*: -1}
  curl -sS -o "$T/body" -w '%{http_code}' "${@:1:$#-1}" "$ARCA_SERVER$path"
}
bearer() { echo "Authorization: Bearer $1"; }
# want CODE KIND [curl options…] PATH: the request answers CODE with an error of KIND.
want() {
  local code=$1 kind=$2 got; shift 2
  got=$(status "$@")
  # (the messages name the path only: the options hold tokens)
  [ "$got" = "$code" ] || { cat "$T/body" >&2; fail "${*: -1}: status $got, expected $code"; }
  grep -q "^{\"error\":{\"kind\":\"$kind\"," "$T/body" || { cat "$T/body" >&2; fail "${*: -1}: error kind is not $kind"; }
}
post() { echo -X POST -H Content-Type:application/json; }

mkdir -p "$T/src"; echo hello > "$T/src/a.txt"
init_repo
echo "$ARCA_PASSWORD" > "$T/repo.pass"; chmod 600 "$T/repo.pass"
CONF=$T/server.yaml
cat > "$CONF" <<EOF
server:
  listen: "127.0.0.1:$SERVER_PORT"
  catalog: $T/catalog.db
  shutdown-grace: 5s
repositories:
  main: {location: $REPO, password-file: $T/repo.pass}
sources:
  src: {kind: files, repository: main, paths: [$T/src]}
  gone: {kind: files, repository: main, paths: [$T/$(printf 'gone%.0s' $(seq 30))]}
plans:
  daily: {source: src, schedule: {cron: "@yearly"}}
  lost: {source: gone, schedule: {cron: "@yearly"}}
EOF
chmod 600 "$CONF"
make_token "$CONF"
ADMIN=$(cat "$ARCA_TOKEN_FILE")
"$ARCA" server token create --config "$CONF" --name viewer --role viewer > "$T/viewer.token" 2>/dev/null
"$ARCA" server token create --config "$CONF" --name revoked --role admin > "$T/revoked.token" 2>/dev/null
VIEWER=$(cat "$T/viewer.token") REVOKED=$(cat "$T/revoked.token")
start_server "$CONF"

step "tokens: none, wrong or revoked -> 401 on the API and /metrics; /healthz needs none"
[ "$(status /healthz)" = 200 ] || fail "/healthz without a token is not 200"
[ "$(status /readyz)" = 200 ] || fail "/readyz without a token is not 200"
for path in /api/v1/plans /metrics; do
  want 401 auth "$path"
  grep -qi '^www-authenticate: bearer' <(curl -sS -D - -o /dev/null "$ARCA_SERVER$path") || fail "$path: 401 without WWW-Authenticate: Bearer"
  want 401 auth -H "$(bearer "arca_tok_000000000000_$(printf '0%.0s' $(seq 64))")" "$path"
  want 401 auth -H "$(bearer garbage)" "$path"
  [ "$(status -H "$(bearer "$REVOKED")" "$path")" = 200 ] || fail "$path: the token to revoke does not work before"
done
revoked_id=$(cut -d_ -f3 <<< "$REVOKED")
a server token revoke --config "$CONF" "tok_$revoked_id" > /dev/null 2>&1 || fail "token revoke failed"
want 401 auth -H "$(bearer "$REVOKED")" /api/v1/plans
want 401 auth -H "$(bearer "$REVOKED")" /metrics
grep -q "$REVOKED" "$T/server.log" && fail "a token is in the server's log"
[ "$(status -H "$(bearer "$VIEWER")" /api/v1/plans)" = 200 ] || fail "a viewer cannot list plans"
[ "$(status -H "$(bearer "$ADMIN")" /metrics)" = 200 ] || fail "the admin cannot read /metrics"

step "roles: a viewer's POST -> 403, and nothing runs"
want 403 refused -H "$(bearer "$VIEWER")" $(post) -d '{}' /api/v1/plans/daily/run
[ "$(a plans --json | json_field /dev/stdin "['plans'][0]['last_job']")" = None ] \
  || fail "the refused run created a job"

step "bodies: not JSON -> 400, over 64 KiB -> 413, the server stays up"
want 400 usage -H "$(bearer "$ADMIN")" $(post) -d 'run it, please' /api/v1/plans/daily/run
grep -q "not JSON" "$T/body" || fail "the 400 does not say the body is not JSON"
head -c 70000 /dev/zero | tr '\0' '[' > "$T/huge"
want 413 payload_too_large -H "$(bearer "$ADMIN")" $(post) --data-binary @"$T/huge" /api/v1/plans/daily/run
head -c 2000000 /dev/urandom > "$T/huge"
code=$(status -H "$(bearer "$ADMIN")" $(post) --data-binary @"$T/huge" /api/v1/plans/daily/run || true)
[ "$code" = 413 ] || [ "$code" = 000 ] || fail "a 2 MB body: status $code, expected 413 (or the connection closed)"
want 400 usage -H "$(bearer "$ADMIN")" "/api/v1/jobs?limit=abc"
kill -0 "$SERVER_PID" || fail "the server died on a malformed request"
[ "$(status /healthz)" = 200 ] || fail "/healthz after malformed requests is not 200"

step "unknown plan -> 404; cancel of a finished job -> 409"
want 404 not_found -H "$(bearer "$ADMIN")" /api/v1/plans/nosuch
want 404 not_found -H "$(bearer "$ADMIN")" $(post) -d '{}' /api/v1/plans/nosuch/run
[ "$(status -H "$(bearer "$ADMIN")" $(post) -d '{}' /api/v1/plans/daily/run)" = 202 ] || { cat "$T/body" >&2; fail "run now is not 202"; }
job=$(grep -o '"id":[0-9]*' "$T/body" | cut -d: -f2)
wait_for 10 eval "api /api/v1/jobs/$job | grep -q '\"state\":\"SUCCESS\"'"
want 409 conflict -H "$(bearer "$ADMIN")" $(post) -d '{}' "/api/v1/jobs/$job/cancel"
expect_exit 16 a jobs cancel "$job"
want 404 not_found -H "$(bearer "$ADMIN")" /api/v1/jobs/999999

step "CLI clients: a filter naming nothing exits 2 naming it, https to plain HTTP says use http://, long reasons fit 80 columns"
expect_exit 2 a jobs --plan dayly
err_contains "no plan 'dayly' in the configuration or the catalog; did you mean 'daily'?"
expect_exit 2 a jobs --since yesterday
err_contains "RFC 3339"
expect_exit 2 a status --server "https://127.0.0.1:$SERVER_PORT"
err_contains "answered plain HTTP: use http://127.0.0.1:$SERVER_PORT"
a plans run lost > /dev/null
wait_for 10 eval "api '/api/v1/jobs?plan=lost' | grep -q '\"state\":\"FAILED\"'"
COLUMNS=80 a jobs > "$T/jobs.txt"
python3 -c 'import sys; w = max(len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")); sys.exit(w > 80)' "$T/jobs.txt" \
  || { cat "$T/jobs.txt" >&2; fail "arca jobs is wider than COLUMNS=80"; }
grep -q "…" "$T/jobs.txt" || { cat "$T/jobs.txt" >&2; fail "the long reason was not cut"; }
a jobs --json | grep -q "$(printf 'gone%.0s' $(seq 30))" || fail "--json does not keep the whole reason"

step "CLI clients: a wrong token exits 11, a viewer's run 15, no server 10"
echo "arca_tok_000000000000_$(printf 'f%.0s' $(seq 64))" > "$T/wrong.token"
expect_exit 11 a plans --token-file "$T/wrong.token"
expect_exit 15 a plans run daily --token-file "$T/viewer.token"
a plans > /dev/null || fail "arca plans with the admin token failed"
stop_server
[ "$SERVER_RC" = 0 ] || fail "arca server exited $SERVER_RC on SIGTERM"
expect_exit 10 a plans
err_contains "arca server"
echo PASS
