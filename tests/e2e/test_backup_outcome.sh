#!/usr/bin/env bash
# What a backup reports is what its point holds: unreadable and shrunk files are not counted as
# stored; -q still names the files that made a point partial; missing paths are warnings (all
# missing is an error); a symlink path warns; --files-from, --dry-run; SIGINT saves nothing.
source "$(dirname "$0")/lib.sh"

id nobody >/dev/null 2>&1 || fail "needs the 'nobody' user"
chmod 755 "$T"
S=$T/src
mkdir -p "$S"
echo readable > "$S/ok.txt"                                     # 9 bytes
head -c 1000000 /dev/urandom > "$S/secret.bin"; chmod 000 "$S/secret.bin"
chmod 755 "$S"
mkdir "$T/repo" && chown nobody "$T/repo"
nob() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$ARCA" "$@"; }
nob init --repo "$REPO" --kdf-memory 8192 --kdf-time 1 -q

step "an unreadable file is not counted in the point's files and bytes"
set +e; nob backup --repo "$REPO" "$S" --json > "$T/b.json" 2> "$T/err"; rc=$?; set -e
[ $rc = 3 ] || { cat "$T/err" >&2; fail "expected exit 3, got $rc"; }
python3 - "$T/b.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
assert s["files"] == 1 and s["bytes"] == 9, f"stats count data never stored: {s}"
assert s["files_new"] == 1, s
PY

step "-q still prints the warnings that made the point partial"
set +e; nob backup --repo "$REPO" "$S" -q > "$T/out" 2> "$T/err"; rc=$?; set -e
[ $rc = 3 ] || fail "expected exit 3 with -q, got $rc"
grep -q "secret.bin" "$T/err" || fail "-q hid the warning that made the backup partial"
[ ! -s "$T/out" ] || fail "-q printed a summary"

step "a file read shorter than its listed size counts the bytes stored"
f=/sys/kernel/mm/transparent_hugepage/enabled
if [ -r "$f" ] && [ "$(stat -c %s "$f")" -gt "$(wc -c < "$f")" ]; then
  a backup --repo "$REPO" "$f" --json > "$T/sys.json" 2>/dev/null
  n=$(wc -c < "$f")
  python3 -c "import json,sys; s=json.load(open('$T/sys.json'))['stats']; assert s['bytes']==$n, s" \
    || fail "stats count the listed size, not the bytes stored"
else
  echo "(no short /sys file here: skipped)"
fi

init_repo "$T/repo2"; R2=$T/repo2
step "a missing path is a warning; the others are backed up (exit 3)"
expect_exit 3 a backup --repo "$R2" "$S/ok.txt" "$T/missing"
err_contains "$T/missing"
a ls --repo "$R2" latest | grep -qx 'ok.txt' || fail "present path not backed up"
expect_exit 10 a backup --repo "$R2" "$T/missing" "$T/missing2"
n=$(a snapshots --repo "$R2" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 1 ] || fail "all paths missing still saved a point"

step "a symlink given as a path: only the link is stored, with a warning"
ln -s "$S" "$T/link"
expect_exit 0 a backup --repo "$R2" "$T/link"
err_contains "only the link is stored"

step "--files-from: one path per line, trimmed, comments skipped"
printf '# paths\n  %s  \n\n%s\n' "$S/ok.txt" "$T/link" > "$T/list"
expect_exit 0 a backup --repo "$R2" --files-from "$T/list"
a ls --repo "$R2" latest > "$T/ls"
grep -qx 'ok.txt' "$T/ls" && grep -qx 'link' "$T/ls" || { cat "$T/ls" >&2; fail "--files-from paths not backed up"; }

step "--dry-run writes nothing and says what would be stored"
mkdir "$T/new"; head -c 200000 /dev/urandom > "$T/new/a.bin"; echo hi > "$T/new/b.txt"
(cd "$R2" && find . -printf '%p %s %T@\n' | sort) > "$T/before"  # directory times too: nothing created and removed
expect_exit 0 a backup --repo "$R2" "$T/new" --dry-run
grep -q "2 files" "$T/.stdout" || { cat "$T/.stdout" >&2; fail "dry run does not count the files"; }
grep -q "nothing was written" "$T/.stdout" || fail "dry run does not say it wrote nothing"
(cd "$R2" && find . -printf '%p %s %T@\n' | sort) > "$T/after"
cmp -s "$T/before" "$T/after" || fail "--dry-run wrote to the repository"
a backup --repo "$R2" "$T/new" --dry-run --json > "$T/dry.json"
python3 -c "import json; j=json.load(open('$T/dry.json')); assert j['dry_run'] and j['files']==2 and j['new_data']>=200000, j"

step "SIGINT/SIGTERM: 'interrupted: no recovery point saved', exit 130, nothing published"
# A sparse terabyte: the backup cannot finish before the signal on any machine. The signal is
# sent once the backup has visibly started (its writer registration is in the repository), not
# after a fixed sleep.
truncate -s 1T "$T/new/huge.img"
interrupt_backup() {  # signal
  ! ls "$R2/writers" 2>/dev/null | grep -q . || fail "a backup left its writer registration behind"
  "$ARCA" backup --repo "$R2" "$T/new" --threads 1 > /dev/null 2> "$T/err" &
  pid=$!
  for _ in $(seq 1 600); do
    ls "$R2/writers" 2>/dev/null | grep -q . && break
    kill -0 $pid 2>/dev/null || { cat "$T/err" >&2; fail "the backup ended before it registered as a writer"; }
    sleep 0.1
  done
  ls "$R2/writers" | grep -q . || fail "the backup did not register as a writer within 60 s"
  kill -"$1" $pid
  for _ in $(seq 1 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -0 $pid 2>/dev/null && { kill -9 $pid; fail "the backup did not stop within 30 s of SIG$1"; }
  set +e; wait $pid; rc=$?; set -e
  [ $rc = 130 ] || { cat "$T/err" >&2; fail "expected exit 130 after SIG$1, got $rc"; }
  err_contains "interrupted: no recovery point saved"
  a snapshots --repo "$R2" --json | python3 -c 'import json,sys; assert not [s for s in json.load(sys.stdin) if "new" in " ".join(s["paths"])]' \
    || fail "an interrupted backup published a point"
  a check --repo "$R2" -q || fail "repository not consistent after an interrupted backup"
}
interrupt_backup INT
interrupt_backup TERM
echo PASS
