#!/usr/bin/env bash
# S3 misconfigurations end with a clear message and a documented exit code, and write nothing.
source "$(dirname "$0")/lib.sh"
load_s3_env
R=s3:$ARCA_TEST_S3_ENDPOINT/arca-e2e/$(basename "$T")
FAST=(-o s3.retries=1 -o s3.retry-base=0.05)

step "missing bucket: exit 10, says how to create it"
expect_exit 10 a init --repo "s3:$ARCA_TEST_S3_ENDPOINT/no-such-bucket/x" --kdf-memory 8192 --kdf-time 1
err_contains "does not exist"; err_contains "--create-bucket"
init_repo "$R"

step "wrong secret: exit 11, names the credentials and is not retried"
start=$(date +%s)
AWS_SECRET_ACCESS_KEY=wrong expect_exit 11 a snapshots --repo "$R"
err_contains "refused the credentials"; err_contains "AWS_ACCESS_KEY_ID"
[ $(( $(date +%s) - start )) -lt 5 ] || fail "a credential error was retried"
(
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  AWS_SHARED_CREDENTIALS_FILE=/nonexistent expect_exit 11 a snapshots --repo "$R"
)
err_contains "no S3 credentials"

step "wrong repository password on S3: exit 11"
ARCA_PASSWORD=wrong expect_exit 11 a snapshots --repo "$R"

step "unreachable endpoint: exit 10 (like an unreachable database) after the retry budget, naming the endpoint"
expect_exit 10 a snapshots --repo "s3:http://127.0.0.1:9/bucket" "${FAST[@]}"
err_contains "gave up after 2 attempts"; err_contains "127.0.0.1:9"; err_contains "cannot reach the S3 endpoint"

step "TLS to a plain HTTP server: exit 1, a TLS error"
expect_exit 1 a snapshots --repo "s3:https://${ARCA_TEST_S3_ENDPOINT#http://}/bucket" "${FAST[@]}"
err_contains "TLS"; err_contains "s3.ca-bundle"

step "bad options: exit 2"
expect_exit 2 a snapshots --repo "$R" -o s3.colour=blue
err_contains "unknown option s3.colour"
expect_exit 2 a snapshots --repo "$R" -o s3.connections=zero
expect_exit 2 a snapshots --repo "$T/local" -o s3.region=x
err_contains "only to s3: repositories"
expect_exit 2 a snapshots --repo "s3:http://host/Bad_Bucket"
err_contains "bucket name"

step "staging left by a killed backup is removed by the next one; a live one's is not"
mkdir -p "$T/stage/arca-staging-dead" "$T/stage/arca-staging-live"
echo leftover > "$T/stage/arca-staging-dead/pack-1"
exec 7< "$T/stage/arca-staging-live"; flock -n 7   # "another arca" holding its staging directory
mkdir -p "$T/small"; echo data > "$T/small/f"
ARCA_STAGING_DIR=$T/stage a backup --repo "$R" "$T/small" -q
[ ! -e "$T/stage/arca-staging-dead" ] || fail "an abandoned staging directory was left"
[ -d "$T/stage/arca-staging-live" ] || fail "a staging directory in use was removed"
[ -z "$(ls "$T/stage" | grep -v live)" ] || fail "the backup left its own staging directory: $(ls "$T/stage")"
exec 7<&-

step "the repository is intact"
a check --repo "$R" -q
echo PASS
