#!/usr/bin/env bash
# A hostile Redis master (tests/e2e/hostile_redis_master.py: our own test server standing in for
# one, as no real server misbehaves on purpose) declares huge strings, LZF sizes and replies:
# each backup fails (exit 12, or 1 when the stream ends first) naming the server, records nothing, and Arca's peak memory stays
# far below what was declared (docs/security.md, "Redis replication stream").
source "$(dirname "$0")/lib.sh"
init_repo
count() { a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
# Runs arca, keeps stderr in $T/err and its exit code in $T/rc, prints its peak RSS in MiB.
peak_mib() {
  python3 - "$T" "$ARCA" "$@" <<'PY'
import resource, subprocess, sys
t = sys.argv[1]
with open(t + "/err", "w") as err:
    rc = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=err).returncode
open(t + "/rc", "w").write(str(rc))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
PY
}

for mode in bigstring bigstring-eof biglzf bigarray bigbulk; do
  step "hostile master: $mode"
  rm -f "$T/port"
  python3 "$(dirname "$0")/hostile_redis_master.py" "$T/port" "$mode" &
  for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
  port=$(cat "$T/port")
  mib=$(peak_mib redis backup --repo "$REPO" --url "redis://127.0.0.1:$port" --timeout 10)
  want=12
  case $mode in
    bigstring|biglzf) expect="bytes of the RDB data remain" ;;
    bigarray) expect="16777216 array elements" ;;
    *) expect="closed by the server"; want=1 ;;  # the stream ended before the declared bytes came
  esac
  [ "$(cat "$T/rc")" = $want ] || { cat "$T/err" >&2; fail "$mode: expected exit $want, got $(cat "$T/rc")"; }
  err_contains "127.0.0.1:$port"
  err_contains "$expect"
  # 512 MiB declared; Arca's own buffers are a few MiB.
  [ "$mib" -lt 200 ] || fail "$mode: peak RSS $mib MiB"
  kill %1 2>/dev/null || true
  wait 2>/dev/null || true
done
[ "$(count)" = 0 ] || fail "a refused capture left a recovery point"
echo PASS
