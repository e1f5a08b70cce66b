#!/usr/bin/env bash
# SIGINT/SIGTERM cancel long commands through the job's cancel token: exit 130 within a second
# or so, a message saying so ("interrupted: …", "… cancelled"), no new recovery point, no
# staging file left, a repository that passes check, and a next run that succeeds. Prints the
# measured latency per operation.
source "$(dirname "$0")/lib.sh"

no_staging() {
  [ -z "$(find "$REPO/tmp" -type f 2>/dev/null | head -1)" ] || { find "$REPO/tmp" -type f >&2; fail "$1: staging files left"; }
}
check_passes() { a check --repo "$REPO" -q || fail "$1: the repository does not pass check"; }
# Busy: the command has read this many bytes of its progress (a file grows in the repository).
repo_grew() { [ "$(du -sm "$REPO" | cut -f1)" -gt "$1" ]; }
# Busy: the command under interrupt_and_time ($pid) has read more than this many MB. Not a delay:
# a host with SHA-NI checks the whole repository in less than the 0.3 s a delay used to give it.
has_read() { [ "$(sed -n 's/^rchar: //p' "/proc/$pid/io" 2>/dev/null || echo 0)" -gt $(($1 * 1000000)) ]; }

SRC=$T/src
mkdir -p "$SRC"
for i in $(seq 1 30); do head -c 10000000 /dev/urandom > "$SRC/f$i"; done
# 4 MiB packs: an unoptimized test build spends most of a 16 MiB pack read allocating and
# freeing its buffer, a unit no cancel interrupts (in an optimized build it is milliseconds).
init_repo "$REPO" --pack-size 4
base=$(du -sm "$REPO" | cut -f1)

step "backup: SIGINT stops it, nothing is published"
interrupt_and_time "backup" INT "repo_grew $((base + 20))" -- "$ARCA" backup --repo "$REPO" "$SRC" --no-progress
[ "$(points)" = 0 ] || fail "backup: a recovery point was published"
no_staging backup
check_passes backup
step "the next backup works"
a backup --repo "$REPO" "$SRC" -q
[ "$(points)" = 1 ] || fail "the backup after the cancel published no point"

step "backup: SIGTERM too"
for i in $(seq 1 30); do head -c 10000000 /dev/urandom > "$SRC/g$i"; done
size=$(du -sm "$REPO" | cut -f1)
interrupt_and_time "backup (SIGTERM)" TERM "repo_grew $((size + 20))" -- "$ARCA" backup --repo "$REPO" "$SRC" --no-progress
[ "$(points)" = 1 ] || fail "backup (SIGTERM): a recovery point was published"
no_staging "backup (SIGTERM)"
check_passes "backup (SIGTERM)"
rm -f "$SRC"/g*

step "restore: SIGINT stops it, unfinished files removed, it says what it wrote"
interrupt_and_time "restore" INT 'compgen -G "$T/out/src/.arca-restore.*" > /dev/null' -- \
  "$ARCA" restore --repo "$REPO" latest --target "$T/out" --threads 1 --no-progress
! compgen -G "$T/out/src/.arca-restore.*" > /dev/null || fail "restore: temporary files left"
a restore --repo "$REPO" latest --target "$T/out" -q
for i in 1 17 30; do cmp "$SRC/f$i" "$T/out/src/f$i"; done
rm -rf "$T/out"

step "check --read-data: SIGINT stops it"
interrupt_and_time "check --read-data" INT "has_read 40" -- "$ARCA" check --repo "$REPO" --read-data --no-progress
check_passes "check --read-data"

step "prune: SIGINT stops it at a safe point; check passes; the next prune finishes"
# Half of every pack unused: the prune repacks (reads, authenticates and copies) 150 MB.
for i in $(seq 2 2 30); do rm "$SRC/f$i"; done
a backup --repo "$REPO" "$SRC" -q
first=$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
a forget --repo "$REPO" "$first" -q
interrupt_and_time "prune" INT "has_read 30" -- "$ARCA" prune --repo "$REPO" --grace 0 --max-unused 0.1 --no-progress
no_staging prune
check_passes prune
[ "$(points)" = 1 ] || fail "prune: the kept recovery point is gone"
a prune --repo "$REPO" --grace 0 --max-unused 0.1 -q
check_passes "the prune after the cancel"
a restore --repo "$REPO" latest --target "$T/out" -q
for i in 1 15 29; do cmp "$SRC/f$i" "$T/out/src/f$i"; done

echo PASS
