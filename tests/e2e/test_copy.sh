#!/usr/bin/env bash
# Replication of file recovery points (docs/replication.md): 'init --like' makes a replica with a
# password of its own; 'copy' fills it, copies nothing twice, honours the replica's own retention,
# refuses what is not a replica of the source, survives SIGINT and SIGKILL mid-way; the replica
# alone, with only its own password, restores every point byte for byte once the primary is gone.
source "$(dirname "$0")/lib.sh"
# Only password files from here on: nothing may open a repository with the other's password.
unset ARCA_PASSWORD
echo primary-pass > "$T/primary.pw"
echo replica-pass > "$T/replica.pw"
PRI=$T/primary
REP=$T/replica
P=(--repo "$PRI" --password-file "$T/primary.pw")
KDF=(--kdf-memory 8192 --kdf-time 1)
init_repo "$PRI" --password-file "$T/primary.pw"
ids() { a snapshots "$@" --json | python3 -c 'import json,sys; [print(s["id"]) for s in json.load(sys.stdin)]'; }
count() { ids "$@" | wc -l; }

step "two points in the primary"
SRC=$T/src
make_tree "$SRC"
a backup "${P[@]}" "$SRC" -q
cp -a "$SRC" "$T/state1"
head -c 400000 /dev/urandom > "$SRC/bin/second.bin"
rm "$SRC/docs/deep/f7.txt"
echo changed >> "$SRC/docs/text.txt"
a backup "${P[@]}" "$SRC" -q
cp -a "$SRC" "$T/state2"
mapfile -t PIDS < <(ids "${P[@]}")
[ ${#PIDS[@]} = 2 ] || fail "2 points expected in the primary"

step "init --like: refusals first (they create nothing)"
expect_exit 2 a init --repo "$REP" --like "$PRI" --password-file "$T/replica.pw" --like-password-file "$T/primary.pw" "${KDF[@]}" --chunk-avg 512
err_contains "with --like"
# Without --like-password-file the new repository's password is tried on the source: refused.
expect_exit 11 a init --repo "$REP" --like "$PRI" --password-file "$T/replica.pw" "${KDF[@]}"
[ ! -e "$REP" ] || fail "a refused init --like left $REP behind"
expect_exit 10 a init --repo "$REP" --like "$T/nowhere" --password-file "$T/replica.pw" "${KDF[@]}"
[ ! -e "$REP" ] || fail "init --like of a missing source left $REP behind"

step "init --like with its own password"
a init --repo "$REP" --like "$PRI" --password-file "$T/replica.pw" --like-password-file "$T/primary.pw" "${KDF[@]}" > "$T/init.out"
grep -q "replica of $PRI" "$T/init.out" || fail "init --like does not say what it replicates: $(cat "$T/init.out")"
R=(--repo "$REP" --password-file "$T/replica.pw")
[ "$(count "${R[@]}")" = 0 ] || fail "a new replica has points"
expect_exit 15 a init --repo "$REP" --like "$PRI" --password-file "$T/replica.pw" --like-password-file "$T/primary.pw" "${KDF[@]}"
err_contains "already exists"
# The replica's password is not the primary's.
expect_exit 11 a snapshots --repo "$PRI" --password-file "$T/replica.pw"

step "copy --dry-run copies nothing"
a copy "${P[@]}" --to "$REP" --dry-run --json > "$T/dry.json"
python3 - "$T/dry.json" "${PIDS[@]}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["dry_run"] is True, d
assert [p["id"] for p in d["copied"]] == sys.argv[2:], d["copied"]
assert d["blobs"] > 0 and d["blob_bytes"] > 3000000 and d["stored_bytes"] == 0, d
PY
[ "$(count "${R[@]}")" = 0 ] || fail "a dry run copied points"
[ -z "$(find "$REP/data" "$REP/meta" -type f 2>/dev/null)" ] || fail "a dry run wrote packs"

step "copy: both points, oldest first"
a copy "${P[@]}" --to "$REP" --json > "$T/c1.json"
python3 - "$T/c1.json" "${PIDS[@]}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["dry_run"] is False and d["damaged"] == [], d
assert [p["id"] for p in d["copied"]] == sys.argv[2:], d["copied"]
assert d["blobs"] > 0 and d["blob_bytes"] > 3000000 and d["stored_bytes"] > 0 and d["present"] == 0, d
PY
[ "$(ids "${R[@]}" | tr '\n' ' ')" = "${PIDS[*]} " ] || fail "the replica does not hold exactly the primary's points"

step "a second copy copies nothing"
a copy "${P[@]}" --to "$REP" --json > "$T/c2.json"
python3 - "$T/c2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["copied"] == [] and d["blobs"] == 0 and d["blob_bytes"] == 0 and d["stored_bytes"] == 0, d
assert d["present"] == 2 and d["removed_on_replica"] == 0 and d["keyring_entries"] == 0, d
PY

step "what is not a replica of the source is refused"
expect_exit 10 a copy "${P[@]}" --to "$T/missing"
err_contains "init --repo $T/missing --like"
init_repo "$T/other" --password-file "$T/primary.pw"    # same password, but its own keys
expect_exit 15 a copy "${P[@]}" --to "$T/other"
err_contains "not a replica"; err_contains "'arca init --repo DEST --like SOURCE'"
[ -z "$(ls "$T/other/snapshots" 2>/dev/null)" ] || fail "a refused copy wrote points"
expect_exit 15 a copy "${P[@]}" --to "$PRI"
err_contains "itself"
expect_exit 11 a copy --repo "$PRI" --password-file "$T/replica.pw" --to "$REP"
expect_exit 15 a key rotate "${R[@]}"
err_contains "replica"

step "the replica's own retention: a forgotten point is not copied again unless named"
a forget "${R[@]}" "${PIDS[0]:0:12}" -q
a copy "${P[@]}" --to "$REP" --json > "$T/c3.json"
python3 - "$T/c3.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["copied"] == [] and d["removed_on_replica"] == 1 and d["present"] == 1, d
PY
[ "$(ids "${R[@]}")" = "${PIDS[1]}" ] || fail "copy brought back a point the replica's retention removed"
a copy "${P[@]}" --to "$REP" "${PIDS[0]:0:8}" --json > "$T/c4.json"
[ "$(json_field "$T/c4.json" '["copied"][0]["id"]')" = "${PIDS[0]}" ] || fail "a named point was not copied again"
[ "$(count "${R[@]}")" = 2 ] || fail "the named point is not back on the replica"

step "SIGINT mid-copy: exit 130 at once, no point visible, check passes"
BIG=$T/big
mkdir -p "$BIG"
for i in $(seq 1 12); do head -c 20000000 /dev/urandom > "$BIG/part$i"; done
a backup "${P[@]}" "$BIG" -q
BIGID=$(ids "${P[@]}" | tail -1)
kib() { du -sk "$REP/data" | cut -f1; }
base=$(kib)
interrupt_and_time "copy" INT '[ "$(kib)" -gt $((base + 16000)) ]' -- "$ARCA" copy "${P[@]}" --to "$REP" --streams 1
[ "$(count "${R[@]}")" = 2 ] || fail "an interrupted copy published its point"
a check "${R[@]}" -q

step "SIGKILL mid-copy (the replica has grown): check passes, no point visible; the next copy finishes"
base=$(kib)
"$ARCA" copy "${P[@]}" --to "$REP" --streams 1 -q 2> "$T/killed.err" &
pid=$!
for _ in $(seq 1 2000); do
  [ "$(kib)" -gt $((base + 16000)) ] && break
  running $pid || break
  sleep 0.005
done
running $pid || fail "the copy ended before it could be killed (test inconclusive: more data needed)"
kill -9 $pid; wait $pid 2>/dev/null || true
[ "$(kib)" -gt $((base + 16000)) ] || fail "the replica did not grow before the kill"
[ "$(count "${R[@]}")" = 2 ] || fail "a killed copy published its point"
a check "${R[@]}" -q 2> "$T/check.err" || { cat "$T/check.err" >&2; fail "check failed after a killed copy"; }
a copy "${P[@]}" --to "$REP" --json > "$T/c5.json"
python3 - "$T/c5.json" "$BIGID" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert [p["id"] for p in d["copied"]] == [sys.argv[2]], d["copied"]
assert d["present"] == 2, d
PY
a copy "${P[@]}" --to "$REP" --json > "$T/c6.json"
[ "$(json_field "$T/c6.json" '["blobs"]')" = 0 ] && [ "$(json_field "$T/c6.json" '["copied"]')" = "[]" ] || fail "the copy after the killed one left work"

step "the primary is gone: the replica alone, with its own password, restores every point"
rm -rf "$PRI"
a check "${R[@]}" --read-data -q 2> "$T/check.err" || { cat "$T/check.err" >&2; fail "check --read-data failed on the replica"; }
a restore "${R[@]}" "${PIDS[0]:0:12}" --target "$T/out1" -q
same_tree "$T/state1" "$T/out1/src"
a restore "${R[@]}" "${PIDS[1]:0:12}" --target "$T/out2" --verify -q
same_tree "$T/state2" "$T/out2/src"
a restore "${R[@]}" "${BIGID:0:12}" --target "$T/out3" -q
for i in $(seq 1 12); do cmp "$BIG/part$i" "$T/out3/big/part$i" || fail "part$i differs after restore from the replica"; done
echo PASS
