#!/usr/bin/env bash
# The whole file backup/restore/check flow of test_backup_restore.sh, on S3.
ARCA_TEST_ON_S3=1 exec bash "$(dirname "$0")/test_backup_restore.sh"
