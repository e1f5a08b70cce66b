#!/usr/bin/env bash
# An operator who runs restic types its habits into Arca: several jobs with multi-path backups,
# comma-separated tags, relative excludes, forget --keep-last, prune, 'restore latest' with
# selectors and includes, sparse images, cron's -q. Every recovery point that should survive does,
# and restores byte for byte.
source "$(dirname "$0")/lib.sh"
init_repo
export ARCA_REPOSITORY=$REPO
D=$T/data
mkdir -p "$D/src/.cache/thumbnails" "$D/docs" "$D/x" "$D/y"
echo "main v1" > "$D/src/main.c"; echo thumb > "$D/src/.cache/thumbnails/t.png"
echo "guide" > "$D/docs/guide.md"; echo x > "$D/x/f"; echo y > "$D/y/f"
truncate -s 64M "$D/docs/disk.img"; echo "boot sector" | dd of="$D/docs/disk.img" conv=notrunc status=none
id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"][:8])'; }

step "two multi-path jobs, tags given as restic writes them"
cd "$T"
first=$(a backup data/src data/docs --tag nightly,auto --exclude .cache/thumbnails --json | id)
echo "main v2" > "$D/src/main.c"
second=$(a backup data/src data/docs --tag nightly,auto --exclude .cache/thumbnails --json | id)
other=$(a backup data/x data/y --tag nightly --json | id)
a snapshots --tag auto --json | python3 -c 'import json,sys; assert len(json.load(sys.stdin)) == 2'
a ls "$second" | grep -q thumbnails && fail "relative exclude '.cache/thumbnails' excluded nothing"

step "forget --keep-last 1 keeps the newest point of each job, not of each path count"
a forget --keep-last 1 --json > "$T/forget.json"
python3 - "$T/forget.json" "$first" "$second" "$other" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
kept = sorted(s["id"][:8] for s in d["snapshots"] if s["keep"])
gone = [s["id"][:8] for s in d["snapshots"] if not s["keep"]]
assert kept == sorted([sys.argv[3], sys.argv[4]]), (kept, d)
assert gone == [sys.argv[2]], gone
P
a prune --grace 0 -q

step "'restore latest' with an include of the other job is an error that names the point used"
expect_exit 10 a restore latest --include src/main.c --target "$T/r0"
err_contains "$other"
[ ! -e "$T/r0/src" ] || fail "an unmatched include restored something"

step "restore latest --path: that job's point, sparse image with holes, bytes equal"
a restore latest --path data/src --target "$T/r1" -q
[ "$(cat "$T/r1/src/main.c")" = "main v2" ] || fail "restore latest --path restored the wrong point"
cmp "$D/docs/disk.img" "$T/r1/docs/disk.img" || fail "sparse image differs"
used=$(du -k "$T/r1/docs/disk.img" | cut -f1)
[ "$used" -lt 4096 ] || fail "sparse 64 MiB image restored with $used KiB allocated"

step "check after the whole sequence: nothing missing, nothing called harmless"
a check --read-data > "$T/check.out" 2>&1 || { cat "$T/check.out" >&2; fail "check failed"; }
! grep -qi harmless "$T/check.out" || fail "check called something harmless on a clean repository"

step "cron's backup -q of a job with a vanished path still says why the point is partial"
expect_exit 3 a backup data/src data/gone -q
err_contains "data/gone"
echo PASS
