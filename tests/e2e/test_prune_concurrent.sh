#!/usr/bin/env bash
# Backups, forgets and prunes at the same time, in a loop: no backup fails (one that refuses to
# publish because the very short grace period ran out is run again), no recovery point
# ends up needing deleted data, and every one that is kept restores byte-identical to what it
# backed up. The grace period (1 s) is longer than any backup here takes, as the design needs.
source "$(dirname "$0")/lib.sh"
init_repo "$REPO" --pack-size 1
SRC=$T/src
mkdir -p "$SRC" "$T/states"
for i in $(seq 1 8); do head -c 200000 /dev/urandom > "$SRC/base$i"; done

backups() {
  for i in $(seq 1 25); do
    head -c 150000 /dev/urandom > "$SRC/new$i"
    rm -f "$SRC/new$((i - 3))"
    [ $((i % 4)) = 0 ] && head -c 100000 /dev/urandom > "$SRC/base$((i % 8 + 1))"
    cp -a "$SRC" "$T/states/b$i"
    # With a 1 s grace a prune may mark a backup's own new packs and have its grace period over
    # before the backup ends: the backup then refuses to publish (safe) and is run again.
    local try=1
    until "$ARCA" backup --repo "$REPO" "$SRC" --tag "b$i" -q 2> "$T/b.err"; do
      grep -q "grace period is over" "$T/b.err" && [ $try -lt 5 ] || { echo "backup $i failed: $(cat "$T/b.err")" > "$T/failed"; return; }
      try=$((try + 1)); echo "backup $i refused to publish (grace period over), run again"
    done
    sleep 0.1
  done
  touch "$T/backups-done"
}
backups &
rounds=0
while [ ! -e "$T/backups-done" ] && [ ! -e "$T/failed" ]; do
  a forget --repo "$REPO" --keep-last 3 -q
  a prune --repo "$REPO" --grace 1s --max-unused 20% --json >> "$T/prunes.json"
  rounds=$((rounds + 1))
done
wait
[ -e "$T/failed" ] && fail "$(cat "$T/failed")"
echo "$rounds forget+prune rounds ran during 25 backups"
[ "$rounds" -ge 3 ] || fail "too few prune rounds overlapped the backups"
deleted=$(python3 -c 'import json,sys; d=json.JSONDecoder(); t=open(sys.argv[1]).read(); i=0; n=0
while i < len(t.strip()):
    o, i = d.raw_decode(t, i); n += o["deleted_packs"]
    while i < len(t) and t[i].isspace(): i += 1
print(n)' "$T/prunes.json")
echo "$deleted packs deleted while backups ran"
[ "$deleted" -gt 0 ] || fail "no prune deleted anything while backups ran: the test proves nothing"

step "after the storm: check reads every pack; every kept recovery point restores identical"
sleep 1.1
a prune --repo "$REPO" --grace 1s -q
a check --repo "$REPO" --read-data -q
a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; [print(s["id"], s["tags"][0]) for s in json.load(sys.stdin)]' > "$T/kept"
[ "$(wc -l < "$T/kept")" -ge 3 ] || fail "fewer recovery points than the policy keeps"
while read -r id tag; do
  a restore --repo "$REPO" "$id" --target "$T/out-$tag" -q
  same_tree "$T/states/$tag" "$T/out-$tag/src"
done < "$T/kept"
echo PASS
