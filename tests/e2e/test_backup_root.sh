#!/usr/bin/env bash
# A backup of '/' stores the entries of '/' at the snapshot's top level, so a restore to DIR puts
# /etc at DIR/etc (not DIR/root/etc). '/' is a small fake system here: arca runs chrooted into
# it, in a private mount namespace, with /usr bind-mounted for its libraries and excluded.
source "$(dirname "$0")/lib.sh"

R=$T/system
mkdir -p "$R/usr" "$R/etc" "$R/home/alice" "$R/opt/arca" "$R/root"
echo "fake-host" > "$R/etc/hostname"
echo "alice's notes" > "$R/home/alice/notes.txt"
echo "root's profile" > "$R/root/.profile"
for l in bin lib lib64; do [ -e "/$l" ] && ln -s "usr/$l" "$R/$l"; done
cp "$ARCA" "$R/opt/arca/arca"
init_repo "$R/repo"
unshare -m bash -c "mount --bind /usr '$R/usr' && chroot '$R' /opt/arca/arca backup / --repo /repo -q \
  --exclude /usr --exclude /opt --exclude /repo --exclude /bin --exclude /lib --exclude /lib64" \
  || fail "backup of / in the chroot failed"

step "the children of / are the snapshot's top level"
a ls --repo "$R/repo" latest > "$T/ls"
grep -qx 'etc/hostname' "$T/ls" || { cat "$T/ls" >&2; fail "etc/hostname not at the top"; }
grep -qx 'home/alice/notes.txt' "$T/ls" || fail "home/alice/notes.txt not at the top"
grep -qx 'root/.profile' "$T/ls" || fail "/root is its own top-level entry"
! grep -q '^root/etc' "$T/ls" || fail "/ stored as root/"
! grep -q '^usr\|^repo' "$T/ls" || fail "excludes of / not applied"

step "restore to a new root puts files where they were"
a restore --repo "$R/repo" latest --target "$T/newroot" -q
[ "$(cat "$T/newroot/etc/hostname")" = fake-host ] || fail "etc/hostname not restored at DIR/etc"
[ "$(cat "$T/newroot/home/alice/notes.txt")" = "alice's notes" ] || fail "home not restored at DIR/home"
[ "$(cat "$T/newroot/root/.profile")" = "root's profile" ] || fail "/root not restored at DIR/root"
[ ! -e "$T/newroot/root/etc" ] || fail "the system tree was restored into DIR/root"

step "points of '/' carry the layout marker that keeps them from being read as the old layout"
a cat --repo "$R/repo" snapshot latest | grep -q '"layout"' || fail "new point of / lacks metadata.layout"
# Old-layout points (one entry 'root') restore where files were: unit test RootLayout.*.

step "'/' with another path is refused"
expect_exit 2 a backup --repo "$R/repo" / /etc
err_contains "back up '/' alone"
echo PASS
