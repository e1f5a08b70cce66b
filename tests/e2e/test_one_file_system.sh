#!/usr/bin/env bash
# --one-file-system stays on the filesystem of each given path; without it, mounts are crossed.
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/src/mnt" "$T/small"
echo on-root-fs > "$T/src/here.txt"
mount -t tmpfs -o size=1m tmpfs "$T/small" || fail "cannot mount a tmpfs (the test needs root)"
mkdir "$T/small/inner"; echo on-tmpfs > "$T/small/inner/there.txt"
mount --bind "$T/small" "$T/src/mnt" || fail "cannot bind-mount"
trap 'rc=$?; umount "$T/src/mnt" 2>/dev/null; (exit $rc); cleanup' EXIT
init_repo
a backup --repo "$REPO" "$T/src" -x -q
a ls --repo "$REPO" latest > "$T/ls1"
grep -q '^src/here.txt$' "$T/ls1" || fail "file on the same filesystem missing"
! grep -q 'there.txt' "$T/ls1" || fail "--one-file-system crossed into a mount"
grep -qx 'src/mnt/' "$T/ls1" || fail "--one-file-system dropped the mount point (restic keeps it as an empty directory)"
a restore --repo "$REPO" latest --target "$T/out" -q
[ -d "$T/out/src/mnt" ] && [ -z "$(ls -A "$T/out/src/mnt")" ] || fail "mount point not restored as an empty directory"
a backup --repo "$REPO" "$T/src" -q
a ls --repo "$REPO" latest | grep -q '^src/mnt/inner/there.txt$' || fail "without -x, mounts are crossed"
echo PASS
