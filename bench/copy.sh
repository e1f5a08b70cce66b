#!/usr/bin/env bash
# Replication between two S3 servers (issue 22): the benchmark repository (bench/make-data.py,
# 1 GiB by default) copied from Ceph radosgw to OpenStack Swift's S3 API, both on loopback
# (tests/servers/ceph.sh, tests/servers/swift.sh), same data, same servers, same run:
#
#   arca copy    — a replica made by `arca init --like`, then `arca copy --to` (blobs verified,
#                  the replica's own packs and index, points last)
#   restic copy  — restic 0.14, a destination made with `init --copy-chunker-params`
#   rclone sync  — of the Arca repository's bucket, object by object (Debian's rclone)
#
#   bench/copy.sh [--size-mib N] [--runs N] [--workdir DIR]
#
# The destination is reached over TLS (stunnel; Swift refuses restic's aws-chunked uploads over
# plain HTTP). Every run copies into a new, empty destination bucket; the tools' order alternates. The
# copies are checked: arca and restic check the destination (`check --read-data`), rclone's
# copy is compared object by object with `rclone check`. Prints Markdown with medians and ratios
# and writes the raw numbers to WORKDIR/results/copy-DATE.json. Each tool keeps its defaults
# (arca: the stores' parallelism; restic: 5 connections; rclone: 4 transfers).
# Both servers take one set of credentials (restic 0.14 has one for both repositories): the
# radosgw user gets the Swift test account's key as a second key.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
CMDLINE="bench/copy.sh${*:+ $*}"
SIZE_MIB=1024 RUNS=3 WORKDIR=$BENCH_DIR/work
while [ $# -gt 0 ]; do
  case $1 in
    --size-mib) SIZE_MIB=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "copy.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
for tool in restic rclone; do
  command -v "$tool" >/dev/null && continue
  log "installing $tool (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
done

mkdir -p "$WORKDIR/results"
WORKDIR=$(cd "$WORKDIR" && pwd)
DATA=$WORKDIR/dataset-$SIZE_MIB-s42
OUT=$WORKDIR/copy-out
CEPH=$WORKDIR/copy-ceph SWIFT=$WORKDIR/copy-swift
python3 "$BENCH_DIR/make-data.py" "$DATA" --size-mib "$SIZE_MIB" --seed 42 >&2
mkdir -p "$WORKDIR/bin" && cp "$ROOT/build/arca" "$WORKDIR/bin/arca"
ARCA=$WORKDIR/bin/arca
rm -rf "$OUT" && mkdir -p "$OUT"
STUNNEL=
trap 'kill $STUNNEL 2>/dev/null; "$ROOT/tests/servers/ceph.sh" stop "$CEPH"; "$ROOT/tests/servers/swift.sh" stop "$SWIFT"; rm -rf "$OUT"' EXIT

log "servers: Ceph radosgw (source) and Swift (destination)"
"$ROOT/tests/servers/ceph.sh" stop "$CEPH"; "$ROOT/tests/servers/swift.sh" stop "$SWIFT"
CEPH_MEMSTORE_BYTES=$(( SIZE_MIB * 1024 * 1024 * 3 + (1 << 30) )) "$ROOT/tests/servers/ceph.sh" start "$CEPH" >&2
"$ROOT/tests/servers/swift.sh" start "$SWIFT" >&2
SRC=$(sed -n 's/^ARCA_TEST_S3_ENDPOINT=//p' "$CEPH/env")
# Swift's S3 API refuses the aws-chunked uploads restic's client sends over plain HTTP, so the
# destination is reached over TLS (stunnel in front of Swift, a self-signed certificate every
# tool is given), by all three tools alike.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=arca-bench" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2> /dev/null
TLS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$OUT/stunnel.conf" <<C
foreground = yes
pid =
[s3]
accept = 127.0.0.1:$TLS_PORT
connect = $(sed -n 's/^ARCA_TEST_S3_ENDPOINT=http:\/\///p' "$SWIFT/env")
cert = $OUT/cert.pem
key = $OUT/key.pem
C
stunnel4 "$OUT/stunnel.conf" > "$OUT/stunnel.log" 2>&1 &
STUNNEL=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$TLS_PORT") 2>/dev/null && break; sleep 0.05; done
DST=https://127.0.0.1:$TLS_PORT
CA=$OUT/cert.pem
set -a; source "$SWIFT/env"; set +a  # its credentials, for both servers:
timeout 60 radosgw-admin -c "$CEPH/ceph.conf" key create --uid=arca --key-type=s3 \
  --access-key="$AWS_ACCESS_KEY_ID" --secret-key="$AWS_SECRET_ACCESS_KEY" > "$OUT/key.log" 2>&1 ||
  { cat "$OUT/key.log" >&2; echo "cannot add a key to the radosgw user" >&2; exit 1; }
export ARCA_PASSWORD=bench RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$OUT/restic-cache
echo bench > "$OUT/pw"
# rclone remotes from the environment (no configuration file).
for r in SRC DST; do
  export "RCLONE_CONFIG_${r}_TYPE=s3" "RCLONE_CONFIG_${r}_PROVIDER=Other" "RCLONE_CONFIG_${r}_ENV_AUTH=true"
done
export RCLONE_CONFIG_SRC_ENDPOINT=$SRC RCLONE_CONFIG_DST_ENDPOINT=$DST

log "the source repositories on Ceph: Arca's and restic's of the same data"
"$ARCA" init -r "s3:$SRC/arca-src" --create-bucket -q
"$ARCA" backup -r "s3:$SRC/arca-src" "$DATA" -q --no-progress
restic -r "s3:$SRC/restic-src" init -q
restic -r "s3:$SRC/restic-src" backup "$DATA" -q > /dev/null
RAW=$WORKDIR/results/copy-raw.jsonl
: > "$RAW"

measure() {  # tool run cmd...
  local tool=$1 run=$2; shift 2
  /usr/bin/time -v -o "$OUT/time" "$@" > "$OUT/log" 2>&1 || { cat "$OUT/log" >&2; echo "$tool copy failed" >&2; exit 1; }
  python3 - "$OUT/time" "$tool" "$run" >> "$RAW" <<'PY'
import json, re, sys
t = open(sys.argv[1]).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", t).group(1).split(":")
secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
cpu = float(re.search(r"User time \(seconds\): (.*)", t).group(1)) + float(re.search(r"System time \(seconds\): (.*)", t).group(1))
print(json.dumps({"tool": sys.argv[2], "run": int(sys.argv[3]), "seconds": secs, "cpu_s": cpu, "rss_kib": rss}))
PY
}

TOOLS=(arca restic rclone)
for run in $(seq 1 "$RUNS"); do
  order=("${TOOLS[@]}")
  [ $((run % 2)) = 0 ] && order=(rclone restic arca)
  for tool in "${order[@]}"; do
    log "run $run: $tool"
    case $tool in
      arca)
        "$ARCA" init -r "s3:$DST/arca-dst-$run" -o "s3.ca-bundle=$CA" --like "s3:$SRC/arca-src" --create-bucket -q
        measure arca "$run" "$ARCA" copy -r "s3:$SRC/arca-src" --to "s3:$DST/arca-dst-$run" \
          --to-option "s3.ca-bundle=$CA" -q --no-progress
        "$ARCA" check -r "s3:$DST/arca-dst-$run" -o "s3.ca-bundle=$CA" --read-data -q ;;
      restic)
        restic -r "s3:$DST/restic-dst-$run" --cacert "$CA" init --from-repo "s3:$SRC/restic-src" \
          --from-password-file "$OUT/pw" --copy-chunker-params -q
        measure restic "$run" restic -r "s3:$DST/restic-dst-$run" --cacert "$CA" copy --from-repo "s3:$SRC/restic-src" \
          --from-password-file "$OUT/pw" -q
        restic -r "s3:$DST/restic-dst-$run" --cacert "$CA" check --read-data -q > /dev/null ;;
      rclone)
        # Go reads its trust store from SSL_CERT_FILE; the AWS SDK in rclone 1.60 fails on an
        # AWS_CA_BUNDLE in the environment ("unsupported transport"), so it is left out.
        measure rclone "$run" env -u AWS_CA_BUNDLE SSL_CERT_FILE="$CA" rclone sync "src:arca-src" "dst:rclone-dst-$run"
        env -u AWS_CA_BUNDLE SSL_CERT_FILE="$CA" rclone check "src:arca-src" "dst:rclone-dst-$run" -q ;;
    esac
  done
done

python3 - "$RAW" "$WORKDIR/results/copy-$(date -u +%Y%m%dT%H%M%SZ).json" "$CMDLINE" "$SIZE_MIB" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["tool"], []).append(r)
out = {"command": sys.argv[3], "size_mib": int(sys.argv[4]), "raw": rows, "median": {}}
print(f"Copy Ceph radosgw -> Swift (S3 API, loopback), {sys.argv[4]} MiB data set, medians of {max(len(v) for v in by.values())} runs: `{sys.argv[3]}`\n")
print("| tool | seconds | CPU s | peak RSS MiB |\n|---|---|---|---|")
for tool in ("arca", "restic", "rclone"):
    rs = by.get(tool)
    if not rs: continue
    m = {"seconds": statistics.median(r["seconds"] for r in rs), "cpu_s": statistics.median(r["cpu_s"] for r in rs),
         "rss_mib": statistics.median(r["rss_kib"] for r in rs) / 1024, "runs": [r["seconds"] for r in rs]}
    out["median"][tool] = m
    print(f"| {tool} | {m['seconds']:.2f} | {m['cpu_s']:.2f} | {m['rss_mib']:.0f} |")
a = out["median"].get("arca")
for peer in ("restic", "rclone"):
    p = out["median"].get(peer)
    if a and p:
        r = p["seconds"] / a["seconds"]
        print(f"\narca copy is {r:.2f}x faster than {peer}" if r >= 1 else f"\n{peer} is {1 / r:.2f}x faster than arca copy")
json.dump(out, open(sys.argv[2], "w"), indent=1)
PY
