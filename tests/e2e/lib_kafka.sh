# Helpers for the Kafka end-to-end tests: mock clusters (librdkafka's, over TCP, in their own
# processes) started from tests/tools/kafka_tool, stopped by PID.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
KAFKA_TOOL=${KAFKA_TOOL:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/tests/kafka_tool}
KT() { "$KAFKA_TOOL" "$@"; }
MOCK_PIDS=()
kafka_cleanup() {
  local rc=$?
  set +e  # with errexit on, '(exit $rc)' of a failed test would end the trap before cleanup
  for p in "${MOCK_PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  (exit $rc); cleanup
}
trap kafka_cleanup EXIT

# start_mock NAME [-t topic:partitions:rf]…: a 3-broker cluster; sets NAME_BS (bootstrap) and NAME_PID.
start_mock() {
  local name=$1; shift
  "$KAFKA_TOOL" mock -b 3 -f "$T/$name.bs" "$@" 2> "$T/$name.log" &
  local pid=$!
  MOCK_PIDS+=("$pid")
  for _ in $(seq 100); do [ -s "$T/$name.bs" ] && break; sleep 0.05; done
  [ -s "$T/$name.bs" ] || { cat "$T/$name.log" >&2; fail "mock cluster $name did not start"; }
  printf -v "${name}_BS" %s "$(cat "$T/$name.bs")"
  printf -v "${name}_PID" %s "$pid"
}
# broker_down NAME / broker_up NAME: SIGUSR1/2 to the mock, waiting until it has acted.
broker_toggle() {
  local name=$1 sig=$2 word=$3 pid
  pid=${name}_PID; pid=${!pid}
  local before; before=$(grep -c "broker 1 $word" "$T/$name.log" || true)
  kill "-$sig" "$pid"
  for _ in $(seq 100); do
    [ "$(grep -c "broker 1 $word" "$T/$name.log" || true)" -gt "$before" ] && return 0
    sleep 0.02
  done
  fail "mock cluster $name did not report broker 1 $word"
}
broker_down() { broker_toggle "$1" USR1 down; }
broker_up() { broker_toggle "$1" USR2 up; }
# Records without offsets, minus the ones a test wrote itself with seq numbers from 9000000.
records() { KT dump "$1" "$2" | grep -v 'seq=39303030303' || true; }
