#!/usr/bin/env bash
# Kafka: archive two topics (3 brokers, 6 + 4 partitions; keys, null keys, tombstones, headers,
# explicit timestamps) with a consumer group's offsets; continue archiving continuously while a
# broker goes down and comes back; then restore into another cluster whose topic already holds
# records, and compare every record (partition, timestamp, key, value, headers) and the
# translated group offsets (the record at the new offset is the one at the old offset); verify;
# range restores; a target with fewer partitions is refused, and remapped only when asked.
source "$(dirname "$0")/lib_kafka.sh"

start_mock src -t orders:6:3 -t events:4:3 -t ignored:2:1
start_mock dst -t orders:6:3 -t small:2:1
init_repo
KT produce "$src_BS" orders 20000
KT produce "$src_BS" events 5000
KT produce "$src_BS" ignored 10
KT commit "$src_BS" g1 orders 0=100 1=250 2=0 3=1234 5=2000

step "one-shot archive with group offsets"
a kafka backup --repo "$REPO" --brokers "$src_BS" --topics 'orders|events' --group g1 --name shop --admin-timeout 500 \
  --json --no-progress > "$T/b1.json"
[ "$(json_field "$T/b1.json" "['records_this_run']")" = 25000 ] || fail "first archive did not hold 25000 records"
json_field "$T/b1.json" "['metadata']['topics']['value']" | grep -q ignored && fail "--topics archived a topic it does not match"

step "a second one-shot run resumes: only the new records, none twice"
KT produce "$src_BS" orders 3000 20000
a kafka backup --repo "$REPO" --brokers "$src_BS" --topics 'orders|events' --group g1 --name shop --admin-timeout 500 \
  --json --no-progress > "$T/b2.json"
[ "$(json_field "$T/b2.json" "['records_this_run']")" = 3000 ] || fail "the resumed run archived $(json_field "$T/b2.json" "['records_this_run']") records, not 3000"

step "continuous archive while a broker goes down and comes back"
"$ARCA" kafka backup --repo "$REPO" --brokers "$src_BS" --topics 'orders|events' --group g1 --name shop --admin-timeout 500 \
  --continuous --interval 0.5 --quiet &   # not through a(): $! must be arca itself
ARCHIVER=$!
KT produce "$src_BS" orders 2000 23000
broker_down src            # broker 1 (leader of partition 0) down: its partitions stall
KT produce "$src_BS" events 1000 5000 &
PRODUCER=$!
sleep 2
broker_up src              # and back
wait "$PRODUCER"
KT produce "$src_BS" orders 2000 25000
# Every record reaches a recovery point within a few intervals (the recovery point lag).
total=33000
for _ in $(seq 100); do
  n=$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s[-1]["metadata"]["records"]["value"])')
  [ "$n" = "$total" ] && break
  sleep 0.2
done
[ "$n" = "$total" ] || fail "the continuous archive holds $n records, not $total"
kill -TERM "$ARCHIVER"; wait "$ARCHIVER"
a kafka verify --repo "$REPO" --source shop -q

step "restore into another cluster whose topic already holds records"
KT produce "$dst_BS" orders 50 9000000
a kafka restore latest --repo "$REPO" --brokers "$dst_BS" --topic orders --offset-map "$T/map.json" --json --no-progress > "$T/r.json"
[ "$(json_field "$T/r.json" "['records']")" = 27000 ] || fail "restore replayed $(json_field "$T/r.json" "['records']") records"
records "$src_BS" orders > "$T/src.txt"
records "$dst_BS" orders > "$T/dst.txt"
[ "$(wc -l < "$T/src.txt")" = 27000 ] || fail "the source topic does not hold 27000 records"
diff "$T/src.txt" "$T/dst.txt" > "$T/diff" || { head "$T/diff"; fail "restored records differ from the source"; }

step "translated group offsets point at the same records"
KT committed "$dst_BS" g1 orders 6 > "$T/new-offsets"
for po in 0=100 1=250 2=0 3=1234; do
  p=${po%=*} old=${po#*=}
  new=$(awk -v p="$p" '$1 == p {print $2}' "$T/new-offsets")
  [ "$new" -ge "$old" ] || fail "partition $p: group offset $old became $new"
  KT get "$src_BS" orders "$p" "$old" | cut -f1,3- > "$T/at-old"
  KT get "$dst_BS" orders "$p" "$new" | cut -f1,3- > "$T/at-new"
  [ -s "$T/at-old" ] || fail "no record at $p/$old"
  cmp -s "$T/at-old" "$T/at-new" || fail "partition $p: the record at translated offset $new is not the one at $old"
done
awk '$1 == 4 && $2 >= 0 {exit 1}' "$T/new-offsets" || fail "a partition without a committed offset got one"
python3 - "$T/map.json" <<'PY' || fail "the offset map is not consistent"
import json, sys
m = json.load(open(sys.argv[1]))["orders"]["partitions"]
assert sum(r[2] for runs in m.values() for r in runs) == 27000
PY

step "verify passes on the intact archive"
a kafka verify latest --repo "$REPO" --json --no-progress > "$T/v.json"
[ "$(json_field "$T/v.json" "['passed']")" = True ] || fail "verify failed on an intact archive"

step "partition and offset range; a time range"
a kafka restore latest --repo "$REPO" --brokers "$dst_BS" --topic orders --to-topic subset --partition 2 --from-offset 100 \
  --to-offset 199 --no-groups -q
[ "$(KT dump "$dst_BS" subset | wc -l)" = 100 ] || fail "the offset range restore did not write 100 records"
a kafka restore latest --repo "$REPO" --brokers "$dst_BS" --topic events --to-topic timed --no-groups -q \
  --from-time 2023-11-14T22:13:20Z --to-time 2023-11-14T22:13:29.990Z
[ "$(KT dump "$dst_BS" timed | wc -l)" = 1000 ] || fail "the time range restore did not write the 1000 records of those 10 s"

step "a target with fewer partitions: refused, remapped only when asked"
expect_exit 2 a kafka restore latest --repo "$REPO" --brokers "$dst_BS" --topic orders --to-topic small --no-groups
err_contains "has 2 partitions"
[ "$(KT dump "$dst_BS" small | wc -l)" = 0 ] || fail "a refused restore wrote records"
a kafka restore latest --repo "$REPO" --brokers "$dst_BS" --topic orders --to-topic small --no-groups --remap-partitions -q
[ "$(KT dump "$dst_BS" small | wc -l)" = 27000 ] || fail "the remapped restore lost records"
a check --repo "$REPO" -q
echo PASS
