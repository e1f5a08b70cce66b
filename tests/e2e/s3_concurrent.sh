#!/usr/bin/env bash
# Concurrent backups into one repository (test_concurrent.sh), on S3.
ARCA_TEST_ON_S3=1 exec bash "$(dirname "$0")/test_concurrent.sh"
