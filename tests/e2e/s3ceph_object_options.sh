#!/usr/bin/env bash
# Per-object options on Ceph radosgw: objects written with s3.object-lock-* carry the retention; a
# bucket without Object Lock refuses them, and an unknown storage class is refused, each with a
# message that says what to change.
source "$(dirname "$0")/lib.sh"
load_s3_env
B=lock-$(basename "$T" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9-')
LOCK=(-o s3.object-lock-mode=GOVERNANCE -o s3.object-lock-days=2)
SRC=$T/src
make_tree "$SRC"

step "a bucket created with Object Lock takes locked objects"
init_repo "s3:$ARCA_TEST_S3_ENDPOINT/$B/repo" --object-lock "${LOCK[@]}"
a backup --repo "s3:$ARCA_TEST_S3_ENDPOINT/$B/repo" "${LOCK[@]}" "$SRC" -q
a restore --repo "s3:$ARCA_TEST_S3_ENDPOINT/$B/repo" latest --target "$T/out" -q
same_tree "$SRC" "$T/out/src"

step "the store reports the retention on a data pack"
printf 'machine 127.0.0.1 login %s password %s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" > "$T/netrc"
s3get() {
  curl -sS --netrc-file "$T/netrc" --aws-sigv4 "aws:amz:us-east-1:s3" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" "$@"
}
key=$(s3get "$ARCA_TEST_S3_ENDPOINT/$B?list-type=2&prefix=repo%2Fdata%2F" | grep -o '<Key>[^<]*</Key>' | head -1 | sed 's/<[^>]*>//g')
[ -n "$key" ] || fail "no data pack listed"
s3get "$ARCA_TEST_S3_ENDPOINT/$B/$key?retention=" > "$T/retention.xml"
grep -q '<Mode>GOVERNANCE</Mode>' "$T/retention.xml" || { cat "$T/retention.xml" >&2; fail "no GOVERNANCE retention on $key"; }
grep -q '<RetainUntilDate>' "$T/retention.xml" || fail "no retain-until date"

step "a bucket without Object Lock refuses, and the message says what to do"
init_repo "s3:$ARCA_TEST_S3_ENDPOINT/$B-plain/repo"
expect_exit 1 a backup --repo "s3:$ARCA_TEST_S3_ENDPOINT/$B-plain/repo" "${LOCK[@]}" -o s3.retries=1 "$SRC"
err_contains "Object Lock"
a check --repo "s3:$ARCA_TEST_S3_ENDPOINT/$B-plain/repo" -q

step "Object Lock is only promised where it exists"
expect_exit 2 a init --repo "s3:$ARCA_TEST_S3_ENDPOINT/$B-other/repo" --object-lock --kdf-memory 8192 --kdf-time 1
err_contains "create-bucket"
expect_exit 2 a init --repo "s3:$ARCA_TEST_S3_ENDPOINT/$B-plain/repo2" --create-bucket --object-lock \
  --kdf-memory 8192 --kdf-time 1
err_contains "exists without Object Lock"

step "storage classes: a known one is used, an unknown one refused with the option named"
a backup --repo "s3:$ARCA_TEST_S3_ENDPOINT/$B-plain/repo" -o s3.storage-class=STANDARD "$SRC" -q
expect_exit 1 a backup --repo "s3:$ARCA_TEST_S3_ENDPOINT/$B-plain/repo" -o s3.storage-class=NO_SUCH_CLASS \
  -o s3.retries=1 "$SRC"
err_contains "s3.storage-class"
a check --repo "s3:$ARCA_TEST_S3_ENDPOINT/$B-plain/repo" -q
echo PASS
