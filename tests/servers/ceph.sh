#!/usr/bin/env bash
# A throwaway single-node Ceph radosgw (S3 API) on 127.0.0.1, for Arca's S3 tests: the most AWS-like
# store here (SigV4, versioning, Object Lock, If-None-Match PUT except in versioned buckets). One
# monitor, one OSD keeping its data in memory (gone at stop), no manager, no cephx; about 1.3 s to
# start, 0.5 s to stop.
#   ceph.sh start DIR   -> writes DIR/env (ARCA_TEST_S3_ENDPOINT, AWS_* for the test user)
#   ceph.sh stop DIR    -> stops the daemons by PID and removes DIR
# Packages (Debian, --no-install-recommends): radosgw ceph-mon ceph-osd
set -euo pipefail
cmd=${1:?usage: ceph.sh start|stop DIR}
dir=${2:?usage: ceph.sh start|stop DIR}

# A zombie has exited too: whoever inherited it may be slow to reap it.
gone() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0; [[ $s == *") Z "* ]]; }
stop_pid() {
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 1 200); do gone "$1" && return 0; sleep 0.05; done
  kill -9 "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do gone "$1" && return 0; sleep 0.05; done
}
stop() {
  # One at a time, clients first: radosgw stalls in shutdown without its OSD, the OSD without its
  # monitor (about 5 s each); in this order each exits in a fraction of a second.
  for d in rgw osd mon; do
    if [ -f "$dir/run/$d.pid" ]; then stop_pid "$(cat "$dir/run/$d.pid")"; fi
  done
  rm -rf "$dir"
}
if [ "$cmd" = stop ]; then stop; exit 0; fi

fail() {
  echo "ceph radosgw did not come up: $1" >&2
  tail -n 20 "$dir"/log/* >&2 || true
  stop
  exit 1
}

[ -d "$dir/run" ] && stop
mkdir -p "$dir/mon" "$dir/osd" "$dir/rgw" "$dir/run" "$dir/log"
dir=$(cd "$dir" && pwd)  # ceph resolves relative paths against its own cwd
conf=$dir/ceph.conf
read -r mon_port rgw_port < <(/usr/bin/python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
fsid=$(cat /proc/sys/kernel/random/uuid)
osd_uuid=$(cat /proc/sys/kernel/random/uuid)

# Every osdmap change (pool create, ...) waits paxos_propose_interval (1 s by default); radosgw makes
# about ten of them at its first start, so a short interval is most of the start time saved.
# No manager runs, so autoscaling and its warnings are off; size 1 pools need explicit permission.
cat > "$conf" <<C
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
ms bind msgr2 = false
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
paxos propose interval = 0.01
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
mon cluster log file = $dir/log/cluster.\$channel.log
pid file =
[mon.a]
mon data = $dir/mon
[osd.0]
osd data = $dir/osd
osd objectstore = memstore
# The whole store lives in the OSD's memory: this caps it (writes fail at 95% full; benchmarks raise it).
memstore device bytes = ${CEPH_MEMSTORE_BYTES:-1073741824}
# The monitor's crush map already places osd.0: skip the commands the OSD would send to do it.
osd crush update on start = false
osd class update on start = false
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
rgw thread pool size = 32
C

# The monitor starts from a ready-made osdmap whose crush map holds osd.0 under one host: that saves
# the crush commands (each a round trip plus a paxos proposal).
monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
osdmaptool --createsimple 1 "$dir/osdmap" >/dev/null 2>&1
ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap" --osdmap "$dir/osdmap" > "$dir/log/mon-mkfs.out" 2>&1 ||
  fail "ceph-mon --mkfs"
ceph-mon -c "$conf" -i a -f > "$dir/log/mon.out" 2>&1 &
echo $! > "$dir/run/mon.pid"
# osd.0 is in the crush map but does not exist yet; this also waits for the monitor to listen.
ceph -c "$conf" --connect-timeout 30 osd new "$osd_uuid" 0 > "$dir/log/osd-new.out" 2>&1 || fail "ceph osd new"
ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" > "$dir/log/osd-mkfs.out" 2>&1 || fail "ceph-osd --mkfs"
ceph-osd -c "$conf" -i 0 -f > "$dir/log/osd.out" 2>&1 &
echo $! > "$dir/run/osd.pid"
# radosgw creates its pools and waits for the OSD itself.
radosgw -c "$conf" -n client.rgw.a -f > "$dir/log/rgw.out" 2>&1 &
echo $! > "$dir/run/rgw.pid"

up=
for _ in $(seq 1 600); do
  for p in $(cat "$dir"/run/*.pid); do if gone "$p"; then fail "a daemon exited"; fi; done
  if [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$rgw_port/")" = 200 ]; then up=1; break; fi
  sleep 0.1
done
[ -n "$up" ] || fail "radosgw does not answer on port $rgw_port"
# After radosgw: it has made the default zone, so radosgw-admin does not race it for that.
timeout 60 radosgw-admin -c "$conf" user create --uid=arca --display-name=arca \
  --access-key=arcatest --secret-key=arcatestsecret > "$dir/log/user-create.out" 2>&1 || fail "radosgw-admin user create"

# radosgw accepts a SigV4 signature for any region; "us-east-1" is what SDKs assume by default.
# CreateBucket takes no LocationConstraint but "default" (the zonegroup), as AWS takes none for us-east-1.
cat > "$dir/env" <<E
ARCA_TEST_S3_ENDPOINT=http://127.0.0.1:$rgw_port
ARCA_TEST_S3_KIND=ceph
AWS_ACCESS_KEY_ID=arcatest
AWS_SECRET_ACCESS_KEY=arcatestsecret
AWS_DEFAULT_REGION=us-east-1
E
echo "ceph radosgw (S3 API) up at http://127.0.0.1:$rgw_port"
