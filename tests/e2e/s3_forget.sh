#!/usr/bin/env bash
# forget (rules, policy table, confirmation) and prune, on S3.
ARCA_TEST_ON_S3=1 exec bash "$(dirname "$0")/test_forget.sh"
