#!/usr/bin/env bash
# Redis failures: each a clear message and documented exit code, and a failed capture never
# leaves a recovery point: unreachable server, missing and wrong password (never echoed), a
# server killed mid-transfer, TLS with a verified certificate and with an unknown one, a restore
# with contradicting options.
source "$(dirname "$0")/lib_redis.sh"
init_repo
count() { a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

step "unreachable server"
FREE=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_exit 10 a redis backup --repo "$REPO" --url "redis://127.0.0.1:$FREE"
err_contains "cannot reach Redis at redis://127.0.0.1:$FREE"
err_contains "is the server running"
expect_exit 2 a redis backup --repo "$REPO" --url "http://127.0.0.1:$FREE"
err_contains "not a Redis URL"

step "password: missing, wrong (never shown), right"
start_redis auth --requirepass s3cret-pw
REDISCLI_AUTH=s3cret-pw redis-cli -p "$auth_PORT" SET k v >/dev/null 2>&1
expect_exit 11 a redis backup --repo "$REPO" --url "$auth_URL"
err_contains "needs a password"
expect_exit 11 a redis backup --repo "$REPO" --url "redis://default:wrong-pw@127.0.0.1:$auth_PORT"
err_contains "refused the login"
grep -q wrong-pw "$T/err" && fail "the password reached the error message"
a redis backup --repo "$REPO" --url "redis://default:s3cret-pw@127.0.0.1:$auth_PORT" -q
REDISCLI_AUTH=s3cret-pw a redis backup --repo "$REPO" --url "$auth_URL" -q
[ "$(count)" = 2 ] || fail "expected 2 recovery points"

step "a server killed in the middle of the transfer leaves no recovery point"
start_redis slow
fill "$slow_PORT" 3000 s
rcli "$slow_PORT" CONFIG SET rdb-key-save-delay 2000 >/dev/null   # 2 ms per key: a 6 s transfer
( sleep 1; "$SERVERS/redis.sh" kill "$T/slow" ) &
expect_exit 1 a redis backup --repo "$REPO" --url "$slow_URL"
err_contains "nothing was recorded"
[ "$(count)" = 2 ] || fail "a broken capture left a recovery point"
a check --repo "$REPO" -q

step "TLS: verified certificate, unknown certificate"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other -keyout "$T/okey.pem" -out "$T/other.pem" 2>/dev/null
TLSPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_redis tls --tls-port "$TLSPORT" --tls-cert-file "$T/cert.pem" --tls-key-file "$T/key.pem" --tls-auth-clients no
fill "$tls_PORT" 700 t
a redis backup --repo "$REPO" --url "rediss://127.0.0.1:$TLSPORT" --tls-ca "$T/cert.pem" --json --no-progress > "$T/tls.json"
[ "$(json_field "$T/tls.json" "['metadata']['keys']['value']")" = "$(dbsize "$tls_PORT" 0)" ] || fail "TLS capture lost keys"
expect_exit 11 a redis backup --repo "$REPO" --url "rediss://127.0.0.1:$TLSPORT" --tls-ca "$T/other.pem"
err_contains "certificate verification failed"
a redis verify latest --repo "$REPO" -q

step "restore: contradicting options"
expect_exit 2 a redis restore latest --repo "$REPO"
err_contains "either --to DIR or --into"
expect_exit 2 a redis restore latest --repo "$REPO" --to "$T/x" --start
err_contains "needs --port"
expect_exit 10 a redis restore 0123abcd --repo "$REPO" --to "$T/x"
echo PASS
