#!/usr/bin/env bash
# A throwaway single-node OpenStack Swift with the S3 API (s3api + tempauth) on 127.0.0.1, for
# Arca's S3 tests: real SigV4 checks, multipart, ListObjectsV2 paging. No systemd, no memcached.
#   swift.sh start DIR   -> writes DIR/env (ARCA_TEST_S3_ENDPOINT, AWS_* for the test account)
#   swift.sh stop DIR    -> stops the servers by PID and removes DIR
#   swift.sh restart-proxy DIR -> starts the S3 front end again (after a test killed it)
# Packages (scripts/setup.sh installs them): swift-proxy swift-object swift-container swift-account python3-swift
set -euo pipefail
cmd=${1:?usage: swift.sh start|stop DIR}
dir=${2:?usage: swift.sh start|stop DIR}

# A zombie has exited too: whoever inherited it (often PID 1) may be slow to reap it.
gone() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0; [[ $s == *") Z "* ]]; }
stop() {
  local pids
  pids=$(cat "$dir"/run/*.pid 2>/dev/null || true)
  [ -n "$pids" ] && kill $pids 2>/dev/null || true
  for _ in $(seq 1 100); do
    local alive=0
    for p in $pids; do gone "$p" || alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
if [ "$cmd" = stop ]; then stop; exit 0; fi
answers() { [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' -I "$1")" != 000 ]; }
if [ "$cmd" = restart-proxy ]; then  # after a test killed the proxy server (its data stays)
  port=$(sed -n 's/^ARCA_TEST_S3_ENDPOINT=http:\/\/127.0.0.1://p' "$dir/env")
  swift-proxy-server "$dir/etc/proxy-server.conf" -v >> "$dir/log/proxy.log" 2>&1 &
  echo $! > "$dir/run/proxy.pid"
  for _ in $(seq 1 300); do answers "http://127.0.0.1:$port/healthcheck" && exit 0; sleep 0.1; done
  echo "swift proxy did not come back" >&2; exit 1
fi

[ -d "$dir/run" ] && stop
etc=$dir/etc
mkdir -p "$etc" "$dir/srv/d1" "$dir/run" "$dir/log" "$dir/cache"
# Four free loopback ports: proxy, object, container, account.
read -r proxy obj cont acct < <(/usr/bin/python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')

printf '[swift-hash]\nswift_hash_path_suffix = arca-test\nswift_hash_path_prefix = arca-test\n[storage-policy:0]\nname = gold\ndefault = yes\n' > "$etc/swift.conf"
# One ring per server type: one replica, one device, 64 partitions.
/usr/bin/python3 - "$etc" "$obj" "$cont" "$acct" <<'PY'
import sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for kind, port in zip(("object", "container", "account"), sys.argv[2:5]):
    rb = RingBuilder(6, 1, 1)
    rb.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port), "device": "d1", "weight": 1})
    rb.rebalance()
    rb.get_ring().save(f"{etc}/{kind}.ring.gz")
PY

server_conf() {  # kind port [extra sections]
  cat <<C
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
workers = 0
user = root
swift_dir = $etc
devices = $dir/srv
mount_check = false
disable_fallocate = true
log_level = WARNING
recon_cache_path = $dir/cache
[pipeline:main]
pipeline = $1-server
[app:$1-server]
use = egg:swift#$1
C
  shift 2
  for s in "$@"; do printf '[%s]\n' "$s"; done
}
server_conf object "$obj" object-replicator object-reconstructor object-updater object-auditor > "$etc/object-server.conf"
server_conf container "$cont" container-replicator container-updater container-auditor container-sync container-sharder > "$etc/container-server.conf"
server_conf account "$acct" account-replicator account-auditor account-reaper > "$etc/account-server.conf"
cat > "$etc/proxy-server.conf" <<C
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $proxy
workers = 0
user = root
swift_dir = $etc
log_level = WARNING
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
user_test_reader = reading
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
allow_multipart_uploads = true
s3_acl = false
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
C
for s in object container account proxy; do
  swift-$s-server "$etc/$s-server.conf" -v > "$dir/log/$s.log" 2>&1 &
  echo $! > "$dir/run/$s.pid"
done
for _ in $(seq 1 300); do
  if answers "http://127.0.0.1:$proxy/healthcheck" && answers "http://127.0.0.1:$acct/d1/0/a" &&
     answers "http://127.0.0.1:$cont/d1/0/a/c" && answers "http://127.0.0.1:$obj/d1/0/a/c/o"; then
    cat > "$dir/env" <<E
ARCA_TEST_S3_ENDPOINT=http://127.0.0.1:$proxy
ARCA_TEST_S3_KIND=swift
AWS_ACCESS_KEY_ID=test:tester
AWS_SECRET_ACCESS_KEY=testing
AWS_DEFAULT_REGION=us-east-1
E
    echo "swift (S3 API) up at http://127.0.0.1:$proxy"
    exit 0
  fi
  sleep 0.1
done
echo "swift did not come up" >&2
tail -n 20 "$dir"/log/*.log >&2
stop
exit 1
