#!/usr/bin/env bash
# An S3 endpoint that cannot be reached (connection refused, a name that does not resolve) ends
# with exit 10, like an unreachable PostgreSQL, Redis or Kafka, naming the endpoint and what to
# check. Needs no S3 server (the S3 suites run s3_errors.sh against real ones).
source "$(dirname "$0")/lib.sh"
export AWS_ACCESS_KEY_ID=arca-test AWS_SECRET_ACCESS_KEY=arca-test
unset AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE
FAST=(-o s3.retries=1 -o s3.retry-base=0.05)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

step "connection refused: exit 10 after the retry budget"
expect_exit 10 a snapshots --repo "s3:http://127.0.0.1:$port/bucket" "${FAST[@]}"
err_contains "cannot reach the S3 endpoint http://127.0.0.1:$port"
err_contains "gave up after 2 attempts"
err_contains "Check that the server is up"

step "a host name that does not resolve: exit 10"
expect_exit 10 a snapshots --repo "s3:http://no-such-host.invalid/bucket" "${FAST[@]}"
err_contains "no-such-host.invalid"

echo PASS
