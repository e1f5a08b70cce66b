#!/usr/bin/env bash
# Secrets stay out of what other users and crash handlers can read (docs/security.md): a
# password given on arca's command line is overwritten in its argv (and warned about), a
# redis-server setting never reaches the server's argv, children do not inherit ARCA_PASSWORD
# or AWS_*, a restored dump.rdb is 0600, and a running arca cannot dump core.
# Observed through --password-command, which runs inside arca: its parent ($PPID) is arca.
source "$(dirname "$0")/lib_redis.sh"
init_repo
export AWS_SECRET_ACCESS_KEY=aws-very-secret
PW=correct-horse

step "a password in --url is overwritten in arca's argv while the backup runs, with a warning"
start_redis auth --requirepass redis-pw-123
REDISCLI_AUTH=redis-pw-123 rcli "$auth_PORT" SET k v > /dev/null
a redis backup --repo "$REPO" --url "redis://:redis-pw-123@127.0.0.1:$auth_PORT" -q \
  --password-command "tr '\\0' ' ' < /proc/\$PPID/cmdline > $T/cmdline; echo $PW" 2> "$T/err"
grep -q "redis://:\*\*\*\*\*\*\*\*\*\*\*\*@127.0.0.1" "$T/cmdline" || fail "argv not scrubbed: $(cat "$T/cmdline")"
grep -q redis-pw-123 "$T/cmdline" && fail "the Redis password is in arca's /proc/PID/cmdline"
err_contains "warning: the Redis password in the URL on the command line is visible"
err_contains "REDISCLI_AUTH"

step "secret-free ways: --redis-password-file (with an ACL user) and REDISCLI_AUTH, without a warning"
echo redis-pw-123 > "$T/redis-pw"
a redis backup --repo "$REPO" --url "redis://default:@127.0.0.1:$auth_PORT" --redis-password-file "$T/redis-pw" -q 2> "$T/err"
[ -s "$T/err" ] && fail "unexpected stderr: $(cat "$T/err")"
REDISCLI_AUTH=redis-pw-123 a redis backup --repo "$REPO" --url "$auth_URL" -q
expect_exit 2 a redis backup --repo "$REPO" --url "redis://:x@127.0.0.1:$auth_PORT" --redis-password-file "$T/redis-pw"
err_contains "already holds a password"

step "a PostgreSQL password= in -d is overwritten too, naming PGPASSWORD and .pgpass"
expect_exit 10 a pg check --repo "$REPO" -d "host=127.0.0.1 port=1 user=u password=pg-pw-456" \
  --password-command "tr '\\0' ' ' < /proc/\$PPID/cmdline > $T/cmdline; echo $PW"
grep -q "password=\*\*\*\*\*\*\*\*\*" "$T/cmdline" || fail "conninfo not scrubbed: $(cat "$T/cmdline")"
grep -q pg-pw-456 "$T/cmdline" && fail "the PostgreSQL password is in arca's /proc/PID/cmdline"
# libpq also accepts spaces around '=' and quoted values with spaces and escapes.
expect_exit 10 a pg check --repo "$REPO" -d "host=127.0.0.1 port=1 user=u password = pg-pw-789 sslmode = disable" \
  --password-command "tr '\\0' ' ' < /proc/\$PPID/cmdline > $T/cmdline; echo $PW"
grep -q pg-pw-789 "$T/cmdline" && fail "a password with spaces around '=' is in arca's /proc/PID/cmdline"
grep -q "sslmode = disable" "$T/cmdline" || fail "more than the password was overwritten: $(cat "$T/cmdline")"
expect_exit 10 a pg check --repo "$REPO" -d "host=127.0.0.1 port=1 password= 'pg pw \\' 987' user=u" \
  --password-command "tr '\\0' ' ' < /proc/\$PPID/cmdline > $T/cmdline; echo $PW"
grep -q "987" "$T/cmdline" && fail "a quoted password is in arca's /proc/PID/cmdline: $(cat "$T/cmdline")"
grep -q "user=u" "$T/cmdline" || fail "more than the quoted password was overwritten: $(cat "$T/cmdline")"
err_contains "PGPASSWORD, ~/.pgpass, PGPASSFILE or passfile=FILE"

step "children get no ARCA_PASSWORD; the password command keeps cloud credentials, nothing of arca's"
a snapshots --repo "$REPO" -q --password-command "tr '\\0' '\\n' < /proc/self/environ > $T/env; echo $PW" > /dev/null
grep -q '^ARCA_PASSWORD=' "$T/env" && fail "the password command got ARCA_PASSWORD"
grep -q '^AWS_SECRET_ACCESS_KEY=' "$T/env" || fail "the password command lost AWS_SECRET_ACCESS_KEY (it may need a secret store)"

step "redis restore --start: requirepass reaches redis-server on stdin, not argv; its environment has no secrets"
id=$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
P2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REDIS_DIRS+=("$T/restored")
a redis restore "$id" --repo "$REPO" --to "$T/restored" --start --port "$P2" --server-option requirepass=srv-pw-789 \
  --server-option "maxmemory-policy=noeviction" --json --no-progress > "$T/r.json" 2> "$T/err"
err_contains "put the option in a file given with --server-option-file"
pid=$(json_field "$T/r.json" '["pid"]')
tr '\0' ' ' < "/proc/$pid/cmdline" > "$T/srv-cmdline"
grep -q srv-pw-789 "$T/srv-cmdline" && fail "requirepass is in redis-server's argv: $(cat "$T/srv-cmdline")"
tr '\0' '\n' < "/proc/$pid/environ" > "$T/srv-env"
grep -qE '^(ARCA_PASSWORD|AWS_SECRET_ACCESS_KEY)=' "$T/srv-env" && fail "redis-server inherited a secret: $(grep -E '^(ARCA|AWS)' "$T/srv-env")"
rcli "$P2" ping 2>&1 | grep -q NOAUTH || fail "the restored server does not require the password"
[ "$(REDISCLI_AUTH=srv-pw-789 rcli "$P2" config get maxmemory-policy | tail -1)" = noeviction ] || fail "setting lost"

step "a restored dump.rdb is owner-only"
[ "$(stat -c %a "$T/restored/dump.rdb")" = 600 ] || fail "dump.rdb is $(stat -c %a "$T/restored/dump.rdb"), not 600"
"$SERVERS/redis.sh" stop "$T/restored"
printf '# the restored server\nrequirepass=file-pw\n' > "$T/srv.conf"
a redis restore "$id" --repo "$REPO" --to "$T/restored" --force --start --port "$P2" --server-option-file "$T/srv.conf" \
  -q 2> "$T/err"
[ -s "$T/err" ] && fail "unexpected stderr: $(cat "$T/err")"
n=$(REDISCLI_AUTH=file-pw rcli "$P2" dbsize 2>&1); [ "$n" -ge 1 ] 2>/dev/null || fail "--server-option-file: dbsize says $n"

step "core dumps: a running arca has core size 0 and is not dumpable (unless ARCA_ALLOW_CORE_DUMPS=1)"
(ulimit -c unlimited; a snapshots --repo "$REPO" -q --password-command "grep 'Max core' /proc/\$PPID/limits > $T/limits; echo $PW") > /dev/null
read -r _ _ _ _ soft _ < "$T/limits"
[ "$soft" = 0 ] || fail "core size limit of a running arca: $(cat "$T/limits")"
(ulimit -c unlimited; ARCA_ALLOW_CORE_DUMPS=1 a snapshots --repo "$REPO" -q --password-command "grep 'Max core' /proc/\$PPID/limits > $T/limits; echo $PW") > /dev/null
read -r _ _ _ _ soft _ < "$T/limits"
[ "$soft" = unlimited ] || fail "ARCA_ALLOW_CORE_DUMPS=1 did not keep core dumps: $(cat "$T/limits")"
# A non-dumpable process's /proc entries belong to root: seen when arca runs as another user.
mkdir -m 777 "$T/pub"; chmod 711 "$T"
setpriv --reuid=65534 --regid=65534 --clear-groups "$ARCA" init --repo "$T/pub/repo" --kdf-memory 8192 --kdf-time 1 -q \
  --password-command "stat -c %u /proc/\$PPID/status > $T/pub/owner; echo $PW"
[ "$(cat "$T/pub/owner")" = 0 ] || fail "arca running as uid 65534 is dumpable (its /proc entries belong to uid $(cat "$T/pub/owner"))"
echo PASS
