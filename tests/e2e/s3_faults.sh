#!/usr/bin/env bash
# Backups and restores through a proxy that drops connections, resets them, answers 500, 503
# SlowDown and 429, truncates bodies and stalls — every third request — complete correctly.
# A stall costs the client its whole stall timeout (1 s and more): it comes half as often as the
# other faults (about 5 times in a run, not 10).
source "$(dirname "$0")/lib.sh"
load_s3_env

/usr/bin/python3 "$(dirname "$0")/../servers/fault_proxy.py" --upstream "${ARCA_TEST_S3_ENDPOINT#http://}" \
  --port-file "$T/port" --every 3 --stall 3 \
  --faults drop,500,truncate,503,reset,stall,429,drop,500,truncate,503,reset,429 > "$T/faults.log" 2>&1 &
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
REPO=s3:http://127.0.0.1:$(cat "$T/port")/arca-e2e/$(basename "$T")
O=(-o s3.stall-timeout=1 -o s3.retry-base=0.05 -o s3.retries=15 -o s3.connections=4)

SRC=$T/src
make_tree "$SRC"
for i in 1 2 3 4 5 6; do head -c 700000 /dev/urandom > "$SRC/bin/r$i.bin"; done
init_repo "$REPO" --pack-size 1 "${O[@]}"

step "backup, change, backup through the faults"
a backup --repo "$REPO" "${O[@]}" "$SRC" -q
cp -a "$SRC" "$T/v1"
echo changed >> "$SRC/docs/text.txt"; head -c 900000 /dev/urandom > "$SRC/bin/r7.bin"
a backup --repo "$REPO" "${O[@]}" "$SRC" -q

step "restore both and compare"
a restore --repo "$REPO" "${O[@]}" latest --target "$T/r2" --verify -q
same_tree "$SRC" "$T/r2/src"
first=$(a snapshots --repo "$REPO" "${O[@]}" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
a restore --repo "$REPO" "${O[@]}" "$first" --target "$T/r1" -q
same_tree "$T/v1" "$T/r1/src"
a check --repo "$REPO" "${O[@]}" --read-data -q

step "every kind of fault was really injected"
for f in drop reset 500 503 429 truncate stall; do
  n=$(grep -c "^fault $f " "$T/faults.log" || true)
  [ "$n" -ge 1 ] || { cat "$T/faults.log" >&2; fail "fault '$f' was never injected"; }
  echo "  $f: $n"
done
grep -q '^fault truncate GET' "$T/faults.log" || fail "no GET body was truncated"
echo PASS
