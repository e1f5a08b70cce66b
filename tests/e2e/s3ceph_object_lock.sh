#!/usr/bin/env bash
# Store-enforced locks on Ceph radosgw (Object Lock): locking a recovery point sets retention
# (or a legal hold) on every object it needs, and the store itself then refuses to delete those
# object versions — even to credentials that may delete. A bucket without Object Lock gets a
# clear note (auto) or error (--store-lock on).
source "$(dirname "$0")/lib.sh"
load_s3_env
B=olock-$(basename "$T" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9-')
R="s3:$ARCA_TEST_S3_ENDPOINT/$B/repo"
SRC=$T/src
make_tree "$SRC"
init_repo "$R" --object-lock
a backup --repo "$R" "$SRC" -q
id=$(a snapshots --repo "$R" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
printf 'machine 127.0.0.1 login %s password %s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" > "$T/netrc"
s3() {
  curl -sS --netrc-file "$T/netrc" --aws-sigv4 "aws:amz:us-east-1:s3" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" "$@"
}

step "a compliance lock puts the recovery point's objects under the store's retention"
a lock add --repo "$R" "$id" --mode compliance --for 2d --yes --store-lock on --json > "$T/lock.json"
n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["store_locked_objects"])' "$T/lock.json")
[ "$n" -ge 5 ] || fail "only $n objects locked"
pack=$(s3 "$ARCA_TEST_S3_ENDPOINT/$B?list-type=2&prefix=repo%2Fdata%2F" | grep -o '<Key>[^<]*</Key>' | head -1 | sed 's/<[^>]*>//g')
for key in "repo/snapshots/$id" "$pack"; do
  s3 "$ARCA_TEST_S3_ENDPOINT/$B/$key?retention=" > "$T/ret.xml"
  grep -q '<Mode>COMPLIANCE</Mode>' "$T/ret.xml" || { cat "$T/ret.xml" >&2; fail "no COMPLIANCE retention on $key"; }
done

step "the store refuses to delete a locked object version"
ver=$(s3 "$ARCA_TEST_S3_ENDPOINT/$B?prefix=repo%2Fsnapshots%2F$id&versions=" | grep -o '<VersionId>[^<]*</VersionId>' | head -1 | sed 's/<[^>]*>//g')
[ -n "$ver" ] || fail "no version id for the snapshot object"
code=$(s3 -o "$T/del.xml" -w '%{http_code}' -X DELETE "$ARCA_TEST_S3_ENDPOINT/$B/repo/snapshots/$id?versionId=$ver")
[ "$code" = 403 ] || { cat "$T/del.xml" >&2; fail "deleting a locked version answered $code, not 403"; }
a restore --repo "$R" "$id" --target "$T/out" -q
same_tree "$SRC" "$T/out/src"

step "index files a prune writes for a locked recovery point are locked too"
head -c 300000 /dev/urandom > "$SRC/extra.bin"
a backup --repo "$R" "$SRC" -q
a forget --repo "$R" "$(a snapshots --repo "$R" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')" -q
a prune --repo "$R" --grace 0 --json > "$T/prune.json"
[ "$(json_field "$T/prune.json" '["index_files_written"]')" -ge 1 ] || fail "prune rewrote no index file"
for key in $(s3 "$ARCA_TEST_S3_ENDPOINT/$B?list-type=2&prefix=repo%2Findex%2F" | grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g'); do
  s3 "$ARCA_TEST_S3_ENDPOINT/$B/$key?retention=" | grep -q '<Mode>COMPLIANCE</Mode>' || fail "index file $key is not locked"
done
a check --repo "$R" --read-data -q

step "a legal hold is set on the store as well"
a lock add --repo "$R" "$id" --mode legal-hold --store-lock on -q
s3 "$ARCA_TEST_S3_ENDPOINT/$B/repo/snapshots/$id?legal-hold=" | grep -q '<Status>ON</Status>' || fail "no legal hold on the store"

step "a bucket without Object Lock: a note in auto mode, an error when required"
R2="s3:$ARCA_TEST_S3_ENDPOINT/$B-plain/repo"
init_repo "$R2"
a backup --repo "$R2" "$SRC" -q
a lock add --repo "$R2" latest --mode governance --for 1d > "$T/auto.out"
grep -q "no Object Lock" "$T/auto.out" || { cat "$T/auto.out"; fail "auto mode did not say the store cannot lock"; }
expect_exit 2 a lock add --repo "$R2" latest --mode governance --for 1d --store-lock on -o s3.retries=1
err_contains "no Object Lock"
echo PASS
