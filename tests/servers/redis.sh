#!/usr/bin/env bash
# A throwaway Redis server for tests, on a free loopback port.
#   redis.sh start DIR [redis-server options…]   start one on DIR; writes DIR/env (REDIS_PORT, REDIS_URL)
#   redis.sh stop DIR                            stop it (by its pid file), if running
#   redis.sh kill DIR                            kill -9 it (a server dying mid-operation)
# repl-diskless-sync-delay 0: otherwise every replication transfer waits 5 s before starting.
set -euo pipefail
# A zombie has exited too: whoever inherited it (often PID 1) may be slow to reap it.
gone() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0; [[ $s == *") Z "* ]]; }
cmd=$1 dir=$2
shift 2
case $cmd in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" --save "" --repl-diskless-sync-delay 0 --enable-debug-command local "$@"
  for _ in $(seq 100); do
    redis-cli -p "$port" ping 2>&1 | grep -qE 'PONG|NOAUTH' && break
    sleep 0.05
  done
  redis-cli -p "$port" ping 2>&1 | grep -qE 'PONG|NOAUTH' || { cat "$dir/redis.log" >&2; exit 1; }
  printf 'REDIS_PORT=%s\nREDIS_URL=redis://127.0.0.1:%s\n' "$port" "$port" >"$dir/env"
  ;;
stop|kill)
  [ -f "$dir/redis.pid" ] || exit 0
  pid=$(cat "$dir/redis.pid")
  sig=TERM; [ "$cmd" = kill ] && sig=KILL
  kill -s $sig "$pid" 2>/dev/null || exit 0
  for _ in $(seq 100); do gone "$pid" && break; sleep 0.05; done
  rm -f "$dir/redis.pid"
  ;;
*) echo "usage: redis.sh start|stop|kill DIR" >&2; exit 2 ;;
esac
