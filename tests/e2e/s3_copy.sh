#!/usr/bin/env bash
# Replication to S3 (docs/replication.md): a local primary copied to a replica on the S3 test
# server; the replica's backend options apart from the primary's; with the primary deleted, the
# S3 replica alone, with its own password, passes check --read-data and restores byte for byte.
source "$(dirname "$0")/lib.sh"
load_s3_env
unset ARCA_PASSWORD
echo primary-pass > "$T/primary.pw"
echo replica-pass > "$T/replica.pw"
PRI=$T/primary
REP=s3:$ARCA_TEST_S3_ENDPOINT/arca-e2e/$(basename "$T")-replica
P=(--repo "$PRI" --password-file "$T/primary.pw")
R=(--repo "$REP" --password-file "$T/replica.pw")
init_repo "$PRI" --password-file "$T/primary.pw"
ids() { a snapshots "$@" --json | python3 -c 'import json,sys; [print(s["id"]) for s in json.load(sys.stdin)]'; }

SRC=$T/src
make_tree "$SRC"
a backup "${P[@]}" "$SRC" -q
cp -a "$SRC" "$T/state1"
head -c 6000000 /dev/urandom > "$SRC/bin/large.bin"
echo changed >> "$SRC/docs/text.txt"
a backup "${P[@]}" "$SRC" -q
cp -a "$SRC" "$T/state2"
mapfile -t PIDS < <(ids "${P[@]}")

step "no replica there yet: exit 10, naming init --like"
expect_exit 10 a copy "${P[@]}" --to "$REP"
err_contains "--like"

step "init --like on S3 (the bucket made if needed), with its own password"
a init --repo "$REP" --create-bucket --like "$PRI" --password-file "$T/replica.pw" --like-password-file "$T/primary.pw" \
  --kdf-memory 8192 --kdf-time 1 -q

step "the replica's backend options are its own: -o is the primary's"
expect_exit 2 a copy "${P[@]}" -o s3.retries=1 --to "$REP"
err_contains "only to s3: repositories"
expect_exit 2 a copy "${P[@]}" --to "$REP" --to-option s3.colour=blue
err_contains "s3.colour"
[ -z "$(ids "${R[@]}")" ] || fail "a refused copy copied points"

step "copy to S3"
a copy "${P[@]}" --to "$REP" --to-option s3.retries=2 --json > "$T/c1.json"
python3 - "$T/c1.json" "${PIDS[@]}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert [p["id"] for p in d["copied"]] == sys.argv[2:], d["copied"]
assert d["blobs"] > 0 and d["blob_bytes"] > 9000000 and d["stored_bytes"] > 9000000 and d["damaged"] == [], d
PY
a copy "${P[@]}" --to "$REP" --json > "$T/c2.json"
python3 - "$T/c2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["copied"] == [] and d["blobs"] == 0 and d["stored_bytes"] == 0 and d["present"] == 2, d
PY

step "the primary is gone: the S3 replica alone restores every point byte for byte"
rm -rf "$PRI"
a check "${R[@]}" --read-data -q 2> "$T/check.err" || { cat "$T/check.err" >&2; fail "check --read-data failed on the S3 replica"; }
a restore "${R[@]}" "${PIDS[0]:0:12}" --target "$T/out1" -q
same_tree "$T/state1" "$T/out1/src"
a restore "${R[@]}" "${PIDS[1]:0:12}" --target "$T/out2" --verify -q
same_tree "$T/state2" "$T/out2/src"
cmp "$T/state2/bin/large.bin" "$T/out2/src/bin/large.bin" || fail "large.bin differs after restore from the S3 replica"
echo PASS
