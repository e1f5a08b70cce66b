#!/usr/bin/env bash
# Append-only keys on S3: the same refusals as on a local repository.
ARCA_TEST_ON_S3=1 exec bash "$(dirname "$0")/test_append_only.sh"
