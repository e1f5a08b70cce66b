#!/usr/bin/env bash
# Excludes as restic users write them: relative patterns with '/' match at any depth, exclude
# files are trimmed, --iexclude ignores case, and a pattern that matched nothing is a warning.
source "$(dirname "$0")/lib.sh"

S=$T/data
mkdir -p "$S/src/sub/deep" "$S/src/subx/deep" "$S/home/.cache/thumbnails" "$S/home/.cache/keep" "$S/pics"
echo a > "$S/src/sub/deep/f"; echo b > "$S/src/subx/deep/f"
echo c > "$S/home/.cache/thumbnails/t.png"; echo d > "$S/home/.cache/keep/k"
echo e > "$S/pics/A.JPG"; echo f > "$S/pics/b.png"; echo g > "$S/x.tmp"
init_repo

step "relative patterns with '/' match at any depth; exclude files trimmed"
printf '  *.tmp  \n\n   # a comment\n\t.cache/thumbnails \r\n' > "$T/excl"
expect_exit 0 a backup --repo "$REPO" "$S" --exclude sub/deep --exclude-file "$T/excl" --iexclude '*.jpg' \
  --exclude no-such-name
a ls --repo "$REPO" latest > "$T/ls"
! grep -q 'src/sub/deep' "$T/ls" || fail "'sub/deep' did not exclude data/src/sub/deep"
grep -qx 'data/src/subx/deep/f' "$T/ls" || fail "'sub/deep' excluded subx/deep"
! grep -q 'thumbnails' "$T/ls" || fail "' .cache/thumbnails ' (exclude file line with spaces) did not exclude"
grep -qx 'data/home/.cache/keep/k' "$T/ls" || fail ".cache/keep wrongly excluded"
! grep -q 'x.tmp' "$T/ls" || fail "exclude file line '  *.tmp  ' not trimmed"
! grep -q 'A.JPG' "$T/ls" || fail "--iexclude '*.jpg' did not exclude A.JPG"
grep -qx 'data/pics/b.png' "$T/ls" || fail "b.png wrongly excluded"

step "a pattern that matched nothing is a warning, not a failure (also with --json)"
err_contains "exclude pattern 'no-such-name' matched nothing"
! grep -q "'sub/deep' matched nothing" "$T/err" || fail "a matching pattern reported as matching nothing"
expect_exit 0 a backup --repo "$REPO" "$S" --exclude '/nowhere/*' --json
grep -q "'/nowhere/\*' matched nothing" "$T/.stdout" || fail "--json output lacks the matched-nothing warning"
err_contains "'/nowhere/\*' matched nothing"

step "--iexclude-file"
printf 'PICS\n' > "$T/iexcl"
expect_exit 0 a backup --repo "$REPO" "$S" --iexclude-file "$T/iexcl"
! a ls --repo "$REPO" latest | grep -q pics || fail "--iexclude-file 'PICS' did not exclude pics"
echo PASS
