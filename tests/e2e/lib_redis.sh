# Helpers for the Redis end-to-end tests: servers from tests/servers/redis.sh in $T, test data,
# and key-by-key comparison by Redis's own value digests.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SERVERS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../servers" && pwd)
FILL=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/redis_fill.py
REDIS_DIRS=()
# The servers are stopped together, and one has exited once its process is gone or a zombie:
# `redis.sh stop` waits for the process to be reaped, which an init that reaps orphans late
# (a Firecracker VM's: ~2 s) made cost 2 s per server.
redis_cleanup() {
  local rc=$?
  set +e  # with errexit on, '(exit $rc)' of a failed test would end the trap before cleanup
  local pids=() d p
  for d in "${REDIS_DIRS[@]}"; do [ -f "$d/redis.pid" ] && pids+=("$(cat "$d/redis.pid")"); done
  [ ${#pids[@]} = 0 ] || kill -TERM "${pids[@]}" 2>/dev/null
  for p in "${pids[@]}"; do
    for _ in $(seq 250); do running "$p" || break; sleep 0.02; done
    running "$p" && kill -KILL "$p" 2>/dev/null
  done
  (exit $rc); cleanup
}
trap redis_cleanup EXIT

# start_redis NAME [options…]: a server in $T/NAME; sets NAME_PORT and NAME_URL.
start_redis() {
  local name=$1; shift
  "$SERVERS/redis.sh" start "$T/$name" "$@"
  REDIS_DIRS+=("$T/$name")
  source "$T/$name/env"
  printf -v "${name}_PORT" %s "$REDIS_PORT"
  printf -v "${name}_URL" %s "$REDIS_URL"
}
rcli() { local port=$1; shift; redis-cli -p "$port" "$@"; }
fill() { python3 "$FILL" "$2" "$3" | redis-cli -p "$1" --pipe >/dev/null; }  # fill PORT N PREFIX

# digests PORT DB PATTERN: "key digest" per key matching PATTERN, sorted (empty values: 0000…).
digests() {
  local port=$1 db=$2 pattern=$3
  redis-cli -p "$port" -n "$db" --scan --pattern "$pattern" | sort > "$T/.keys"
  [ -s "$T/.keys" ] || return 0
  xargs -d '\n' -n 2000 redis-cli -p "$port" -n "$db" DEBUG DIGEST-VALUE < "$T/.keys" > "$T/.digests"
  paste -d ' ' "$T/.keys" "$T/.digests"
}
# same_keys PORT1 PORT2 DB PATTERN: every matching key has the same value on both servers.
same_keys() {
  digests "$1" "$3" "$4" > "$T/d1"
  digests "$2" "$3" "$4" > "$T/d2"
  [ -s "$T/d1" ] || fail "no keys match $4 in db $3"
  diff "$T/d1" "$T/d2" > "$T/ddiff" || { head -5 "$T/ddiff" >&2; fail "keys $4 in db $3 differ between ports $1 and $2"; }
}
dbsize() { redis-cli -p "$1" -n "$2" DBSIZE; }
