#!/usr/bin/env bash
# PostgreSQL restores of hostile recovery points. A key holder (an append-only key, writing
# through Arca's own code: tests/tools/craft_pg) plants symlinks at the names `pg restore` writes,
# a symlink PostgreSQL never makes, tablespace locations, a device node and a root owner; `arca pg
# restore` as root refuses or contains each, and the files outside the target stay byte-identical.
source "$(dirname "$0")/lib.sh"
CRAFT_PG=${CRAFT_PG:-$(dirname "$ARCA")/tests/craft_pg}
[ "$(id -u)" = 0 ] || { echo "SKIP: restores as root are what this tests"; exit 0; }
id postgres >/dev/null 2>&1 || { echo "SKIP: no user postgres"; exit 0; }

init_repo
echo host-secret > "$T/host-pw"
a key add --repo "$REPO" --append-only --new-password-file "$T/host-pw" --kdf-memory 8192 --kdf-time 1 -q
echo "$ARCA_PASSWORD" > "$T/pw"
craft() { "$CRAFT_PG" "$REPO" "$T/host-pw" "$1" "$2"; }
restore() { a pg restore --repo "$REPO" --password-file "$T/pw" --from "$1" --to "$2" --target immediate "${@:3}"; }

# What the attacker aims at: a file, and a non-empty directory, outside every target.
mkdir -p "$T/outside/dir"
printf 'precious\n' > "$T/outside/victim"
echo keep > "$T/outside/dir/file"
manifest "$T/outside" > "$T/outside.before"
untouched() { manifest "$T/outside" | diff "$T/outside.before" - || fail "$1: a file outside the target changed"; }

step "a symlink at postgresql.auto.conf is refused before anything is written"
ID=$(craft auto-conf "$T/outside/victim")
expect_exit 12 restore "$ID" "$T/r1"
err_contains "data/postgresql.auto.conf is a symlink"
err_contains "nothing was written"
untouched auto-conf
[ ! -e "$T/r1/PG_VERSION" ] || fail "a refused restore wrote the data directory"

step "a symlink at recovery.signal is refused"
ID=$(craft signal "$T/outside/victim")
expect_exit 12 restore "$ID" "$T/r2"
err_contains "data/recovery.signal is a symlink"
untouched signal

step "a symlink PostgreSQL never makes (not pg_tblspc/<oid>) is refused"
ID=$(craft other-link "$T/outside/dir")
expect_exit 12 restore "$ID" "$T/r3"
err_contains "data/pg_log is a symlink"
err_contains "only at pg_tblspc/<oid>"
ID=$(craft unlisted-link "$T/outside/dir")
expect_exit 12 restore "$ID" "$T/r3"
err_contains "data/pg_tblspc/16385 is a symlink"
err_contains "does not list"
untouched links

step "a device node is refused"
ID=$(craft device /dev/null)
expect_exit 12 restore "$ID" "$T/r4"
err_contains "data/disk is a special file"
[ ! -e "$T/r4/disk" ] || fail "a device node was created"
ID=$(craft xattr "")
expect_exit 12 restore "$ID" "$T/r4"
err_contains "data/tool carries extended attributes (security.capability)"
[ ! -e "$T/r4/tool" ] || fail "a file with a capability was created"

step "a tablespace OID that is not a number is refused"
ID=$(craft bad-oid "$T/outside/dir")
expect_exit 12 restore "$ID" "$T/r5" --tablespace-map-all "$T/r5-tbs"
err_contains "not a number"
untouched bad-oid

step "recorded tablespace locations are never used silently"
ID=$(craft tablespace "$T/outside/dir")
expect_exit 2 restore "$ID" "$T/r6"
err_contains "16384 at $T/outside/dir"
err_contains "--tablespace-map-all-original"
[ ! -e "$T/r6/PG_VERSION" ] || fail "a refused restore wrote the data directory"
# Confirmed, the same rules as for --to apply: the location is not empty.
expect_exit 2 restore "$ID" "$T/r6" --tablespace-map-all-original
err_contains "tablespace 16384 location $T/outside/dir is not empty"
expect_exit 2 restore "$ID" "$T/r6" --tablespace-map "16384=$T/r6/sub"
err_contains "overlap"
expect_exit 2 restore "$ID" "$T/r6" --tablespace-map "16384=$T/r6-tbs" --tablespace-map-all-original --tablespace-map-all "$T/x"
err_contains "exclude each other"
untouched tablespace
restore "$ID" "$T/r6" --tablespace-map "16384=$T/r6-tbs" -q
[ "$(readlink "$T/r6/pg_tblspc/16384")" = "$T/r6-tbs" ] || fail "the tablespace link is not Arca's own"
[ -f "$T/r6-tbs/PG_16_202307071/5/16390" ] || fail "the tablespace was not restored where mapped"
untouched tablespace-mapped

step "ownership as root: never the owner the point records"
ID=$(craft owner "")
restore "$ID" "$T/r7" -q
[ "$(stat -c %U "$T/r7/PG_VERSION")" = postgres ] || fail "PG_VERSION owned by $(stat -c %U "$T/r7/PG_VERSION"), not postgres"
[ "$(stat -c %U "$T/r7/postgresql.auto.conf")" = postgres ] || fail "postgresql.auto.conf not owned by postgres"
[ "$(stat -c %U "$T/r7/recovery.signal")" = postgres ] || fail "recovery.signal not owned by postgres"
# The cluster's own settings are kept, Arca's block follows them.
[ "$(sed -n 2p "$T/r7/postgresql.auto.conf")" = "work_mem = '7MB'" ] || fail "postgresql.auto.conf lost its settings"
grep -q "^# Added by arca pg restore" "$T/r7/postgresql.auto.conf" || fail "no recovery settings written"
mkdir "$T/r8"; chown nobody: "$T/r8"
restore "$ID" "$T/r8" -q
[ "$(stat -c %U "$T/r8/PG_VERSION")" = nobody ] || fail "an existing --to directory's owner was not used"
restore "$ID" "$T/r9" --owner nobody -q
[ "$(stat -c %U "$T/r9/global/pg_control")" = nobody ] || fail "--owner was not used"
expect_exit 2 restore "$ID" "$T/r10" --owner no-such-user-here
err_contains "no such user"
untouched owner
step "--delta deletes nothing outside a PostgreSQL data directory"
ID=$(craft owner "")
expect_exit 2 restore "$ID" "$T/outside"
err_contains "is not empty"
err_contains "REMOVES every file the backup does not hold"
expect_exit 2 restore "$ID" "$T/outside" --delta
err_contains "holds no PG_VERSION"
expect_exit 2 restore "$ID" / --delta
err_contains "/ is a system directory"
expect_exit 2 restore "$ID" /etc --delta
err_contains "system directory"
ln -s / "$T/root-link"
expect_exit 2 restore "$ID" "$T/root-link" --delta
err_contains "system directory"
# A directory holding the repository (even one that looks like a data directory) is never cleaned.
echo 16 > "$T/PG_VERSION"
expect_exit 2 restore "$ID" "$T" --delta
err_contains "and the repository $REPO overlap"
rm "$T/PG_VERSION"
[ -f "$REPO/config" ] || fail "the repository was touched"
a pg restore --help | grep "REMOVE every file" >/dev/null || fail "--help does not say that --delta removes files"
untouched delta

step "--delta on a tablespace location: only PG_* directories, and only the restored tree is chowned"
mkdir -p "$T/outside/tbs/.ssh"
echo key > "$T/outside/tbs/.ssh/authorized_keys"
manifest "$T/outside" > "$T/outside.before"
ID=$(craft tablespace "$T/outside/tbs")
expect_exit 2 restore "$ID" "$T/r11" --tablespace-map-all-original --delta
err_contains "holds .ssh, which is not a PostgreSQL version directory"
[ "$(stat -c %U "$T/outside/tbs/.ssh/authorized_keys")" = root ] || fail "authorized_keys was chowned"
untouched tbs-delta
restore "$ID" "$T/r11" --tablespace-map "16384=$T/r11-tbs" -q
mkdir "$T/r11-tbs/PG_15_202209061"; echo other > "$T/r11-tbs/PG_15_202209061/keep"
restore "$ID" "$T/r11" --tablespace-map "16384=$T/r11-tbs" --delta -q
[ "$(stat -c %U "$T/r11-tbs/PG_15_202209061/keep")" = root ] || fail "another version's directory was chowned"
[ "$(stat -c %U "$T/r11-tbs/PG_16_202307071/5/16390")" = postgres ] || fail "the restored tablespace is not postgres's"

step "modes are PostgreSQL's, not the point's"
ID=$(craft loose-modes /nonexistent)
restore "$ID" "$T/r12" --tablespace-map "16384=$T/r12-tbs" -q
for f in "$T/r12/base" "$T/r12/base/1" "$T/r12-tbs" "$T/r12-tbs/PG_16_202307071" "$T/r12-tbs/PG_16_202307071/5"; do
  [ "$(stat -c %a "$f")" = 700 ] || fail "$f has mode $(stat -c %a "$f"), not 700"
done
for f in "$T/r12/base/1/1259" "$T/r12-tbs/PG_16_202307071/5/16390" "$T/r12/PG_VERSION"; do
  [ "$(stat -c %a "$f")" = 600 ] || fail "$f has mode $(stat -c %a "$f"), not 600"
done

step "a tablespace the metadata lists but the point lacks is refused before writing"
ID=$(craft missing-tbs /etc)
expect_exit 12 restore "$ID" "$T/r13" --tablespace-map "16384=$T/r13-tbs"
err_contains "tablespaces/16384 is missing"
[ ! -e "$T/r13" ] || fail "a refused restore wrote $T/r13"
ID=$(craft tblspc-dir /etc)
expect_exit 12 restore "$ID" "$T/r13" --tablespace-map "16384=$T/r13-tbs"
err_contains "data/pg_tblspc/16384 is a directory"
[ ! -e "$T/r13" ] || fail "a refused restore wrote $T/r13"

step "a tablespace map through a symlink into the data directory is refused"
ID=$(craft tablespace /nonexistent)
mkdir "$T/r14"; mkdir "$T/x"; ln -s "$T/r14" "$T/x/tsl"
expect_exit 2 restore "$ID" "$T/r14" --tablespace-map "16384=$T/x/tsl/ts"
err_contains "overlap"
expect_exit 2 restore "$ID" "$T/r14" --tablespace-map "16384=$T/x/tsl"
err_contains "is a symlink"
[ ! -e "$T/r14/PG_VERSION" ] || fail "a refused restore wrote the data directory"
untouched final
echo "PASS"
