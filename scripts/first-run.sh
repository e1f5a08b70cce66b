#!/usr/bin/env bash
# Installs what Arca needs, builds it, then runs its main job on embedded defaults: creates a
# local repository, backs up this project's sources, lists snapshots, restores, verifies.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

ARCA=$PWD/build/arca
WORK=$(mktemp -d /tmp/arca-first-run-XXXXXX)
export ARCA_PASSWORD=${ARCA_PASSWORD:-first-run-password}
run() { echo; echo "\$ $*"; "$@"; }

echo
echo "== Arca first run: everything below happens in $WORK"
run "$ARCA" init --repo "$WORK/repo"
run "$ARCA" backup --repo "$WORK/repo" --tag first-run "$PWD/src" "$PWD/docs"
echo "// changing one file and backing up again: only the change is read and stored" 
cp -a "$PWD/src" "$WORK/src-copy"
echo "// edited by first-run" >> "$WORK/src-copy/cli/main.cpp"
run "$ARCA" backup --repo "$WORK/repo" "$WORK/src-copy"
run "$ARCA" snapshots --repo "$WORK/repo"
run "$ARCA" restore latest --repo "$WORK/repo" --target "$WORK/restore" --verify
run diff -r "$WORK/src-copy" "$WORK/restore/src-copy"
echo "restored files are identical to the source"
run "$ARCA" check --repo "$WORK/repo" --read-data
run "$ARCA" stats --repo "$WORK/repo"
echo
echo "== done. Repository: $WORK/repo (password: \$ARCA_PASSWORD = $ARCA_PASSWORD)"
echo "   Try: ARCA_PASSWORD=$ARCA_PASSWORD $ARCA ls latest --repo $WORK/repo"
