#!/usr/bin/env bash
# Installs what Arca needs, builds it, then runs its main job on embedded defaults: creates a
# local repository, backs up a copy of this project's sources, changes a file, backs up again,
# lists and compares snapshots, restores, verifies the restore and the repository.
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
mkdir -p "$WORK/data" && cp -a "$PWD/src" "$PWD/docs" "$PWD/README.md" "$WORK/data/"   # a copy we may change
run "$ARCA" backup --repo "$WORK/repo" --tag first-run "$WORK/data"
echo
echo "// change one file and back up again: only that file is read, only its new chunks stored"
echo "// edited by first-run" >> "$WORK/data/src/cli/main.cpp"
run "$ARCA" backup --repo "$WORK/repo" "$WORK/data"
run "$ARCA" snapshots --repo "$WORK/repo"
run "$ARCA" diff --repo "$WORK/repo" "$("$ARCA" snapshots --repo "$WORK/repo" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"][:8])')" latest
run "$ARCA" restore latest --repo "$WORK/repo" --target "$WORK/restore" --verify
run diff -r "$WORK/data" "$WORK/restore/data"
echo "restored files are identical to the source"
run "$ARCA" check --repo "$WORK/repo" --read-data
run "$ARCA" stats --repo "$WORK/repo"
echo
echo "== done. Repository: $WORK/repo (password: \$ARCA_PASSWORD = $ARCA_PASSWORD)"
echo "   Try: ARCA_PASSWORD=$ARCA_PASSWORD $ARCA ls latest --repo $WORK/repo"
