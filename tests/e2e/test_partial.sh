#!/usr/bin/env bash
# Unreadable files are warnings: the backup goes on, records them, and exits 3 ("partial").
# Special files are stored (not a warning). Runs arca as an unprivileged user so that file
# permissions apply (root reads everything).
source "$(dirname "$0")/lib.sh"

id nobody >/dev/null 2>&1 || fail "needs the 'nobody' user"
chmod 755 "$T"
mkdir -p "$T/src/sub"
echo readable > "$T/src/ok.txt"
echo hidden > "$T/src/secret.txt"; chmod 000 "$T/src/secret.txt"
mkdir "$T/src/locked"; echo x > "$T/src/locked/inner"; chmod 000 "$T/src/locked"
mkfifo "$T/src/sub/fifo"
chmod -R o+rX "$T/src" 2>/dev/null || true
chmod 000 "$T/src/secret.txt" "$T/src/locked"
mkdir "$T/repo" && chown nobody "$T/repo"
nob() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$ARCA" "$@"; }
nob init --repo "$REPO" --kdf-memory 8192 --kdf-time 1 -q

set +e
nob backup --repo "$REPO" "$T/src" --json > "$T/b.json" 2> "$T/err"
rc=$?
set -e
[ $rc = 3 ] || { cat "$T/err"; fail "expected exit 3 (partial), got $rc"; }
grep -q "secret.txt" "$T/err" || fail "warning does not name the unreadable file"
python3 - "$T/b.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["partial"] is True, s
paths = " ".join(w["path"] for w in s["warnings"])
assert "secret.txt" in paths and "locked" in paths and "fifo" not in paths, s["warnings"]
assert s["stats"]["special"] == 1, s["stats"]
PY
nob snapshots --repo "$REPO" | grep -q partial || fail "snapshot list does not flag partial"
mkdir "$T/out" && chown nobody "$T/out"
nob restore --repo "$REPO" latest --target "$T/out" 2> "$T/err" > /dev/null
grep -q "is partial" "$T/err" && grep -q "not backed up: .*secret.txt" "$T/err" \
  || { cat "$T/err"; fail "restoring a partial point does not say so, naming what is missing"; }
[ "$(cat "$T/out/src/ok.txt")" = readable ] || fail "readable file not restored"
[ ! -e "$T/out/src/secret.txt" ] || fail "unreadable file appears in the snapshot"
nob check --repo "$REPO" -q
echo PASS
