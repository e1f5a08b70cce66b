#!/usr/bin/env bash
# Recovery point locks and the second factor, on S3 (a bucket without Object Lock: Arca enforces them).
ARCA_TEST_ON_S3=1 exec bash "$(dirname "$0")/test_locks.sh"
