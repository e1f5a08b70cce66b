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
echo "PASS"
