#!/usr/bin/env bash
# Command-line parsing and credentials (issue 17 B10, B3, C): typos get a suggestion, --help lists
# every exit code, help-options --json works, credential mistakes are named for what they are,
# one exit code per kind of failure, --password-command, init refuses unrelated directories.
source "$(dirname "$0")/lib.sh"
init_repo
SRC=$T/src
mkdir -p "$SRC"
echo hello > "$SRC/a"
a backup --repo "$REPO" "$SRC" -q

step "a typo names the command it probably meant (exit 2)"
expect_exit 2 a snapshot --repo "$REPO"
err_contains "unknown command 'snapshot', did you mean 'snapshots'?"
expect_exit 2 a --repo "$REPO" snapshot
err_contains "did you mean 'snapshots'"
expect_exit 2 a frobnicate
err_contains "unknown command 'frobnicate'"

step "--help lists exit code 15; help-options --json is JSON"
a --help | grep -q "15 refused" || fail "--help omits exit code 15"
a help-options --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert any(o["key"]=="s3.region" for o in d), d'

step "credentials: two ways at once is a usage error, not a wrong password"
echo correct-horse > "$T/pw"
head -c 64 /dev/urandom > "$T/otherkey"
(unset ARCA_PASSWORD; expect_exit 2 a snapshots --repo "$REPO" --password-file "$T/pw" --key-file "$T/otherkey")
err_contains "only one of --key-file, --password-file and --password-command"

step "missing key file and missing password file: both 'not found' (exit 10), each named"
(unset ARCA_PASSWORD; expect_exit 10 a snapshots --repo "$REPO" --key-file "$T/nokey")
err_contains "key file $T/nokey does not exist"
(unset ARCA_PASSWORD; expect_exit 10 a snapshots --repo "$REPO" --password-file "$T/nopw")
err_contains "password file $T/nopw does not exist"

step "--password-command reads the password from the command's output"
(unset ARCA_PASSWORD; a snapshots --repo "$REPO" --password-command "cat $T/pw" -q > /dev/null)
(unset ARCA_PASSWORD; ARCA_PASSWORD_COMMAND="echo correct-horse" a snapshots --repo "$REPO" -q > /dev/null)
(unset ARCA_PASSWORD; expect_exit 11 a snapshots --repo "$REPO" --password-command "false")
err_contains "password command"

step "key add without a new password and no terminal: it asks for the new password, not the current one"
(expect_exit 2 setsid "$ARCA" key add --repo "$REPO" < /dev/null)
err_contains "no new password given"
err_contains "--new-password-file"

step "key remove of the key in use, init on a repository: refused (exit 15)"
cur=$(a key list --repo "$REPO" --json | python3 -c 'import json,sys; print([k["id"] for k in json.load(sys.stdin) if k["current"]][0])')
expect_exit 15 a key remove --repo "$REPO" "${cur:0:8}"
err_contains "key in use"
expect_exit 15 init_repo
err_contains "already exists"

step "init refuses a non-empty directory that is no repository; a file is 'not a directory'"
mkdir "$T/busy"; echo x > "$T/busy/notes.txt"
expect_exit 15 a init --repo "$T/busy" --kdf-memory 8192 --kdf-time 1
err_contains "is not empty and holds no Arca repository"
echo x > "$T/afile"
expect_exit 10 a snapshots --repo "$T/afile"
err_contains "is not a directory"
grep -q "create-bucket" "$T/err" && fail "an S3 hint for a local path"

step "--chunk-avg errors speak KiB only"
expect_exit 2 a init --repo "$T/r3" --chunk-avg 1000
err_contains "1000 KiB"
grep -q "64 <= min" "$T/err" && fail "a byte-based message for KiB options"
expect_exit 2 a init --repo "$T/r3" --chunk-min 512 --chunk-avg 256
err_contains "KiB"

step "cat tree takes the 8-digit id check and ls print"
tree=$(a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["tree"][:8])')
a cat --repo "$REPO" tree "$tree" | python3 -c 'import json,sys; json.load(sys.stdin)'
expect_exit 2 a cat --repo "$REPO" tree abc
step "help has no artefacts; redis backup --timeout must be positive"
a pg backup --help > "$T/pghelp"
grep -q "{false}\|{true}" "$T/pghelp" && fail "help shows a flag default artefact: $(grep '{' "$T/pghelp")"
expect_exit 2 a redis backup --repo "$REPO" --url redis://127.0.0.1:1 --timeout -5
err_contains "not in range"
expect_exit 2 a redis backup --repo "$REPO" --url redis://127.0.0.1:1 --timeout 0

step "progress: a newline in a file name is escaped, a long UTF-8 name is cut between characters"
# Each name is a sparse terabyte: the progress line shows it for as long as the test looks (no
# slowed-down backup, no fixed sleep); the backup is interrupted once the line was seen.
mkdir -p "$T/prog1" "$T/prog2"
truncate -s 1T "$T/prog1/$(printf 'line\nbreak')"
long=$(python3 -c 'print("é" * 120)')
truncate -s 1T "$T/prog2/$long"
tty_backup() {  # dir output fixed-string-seen-on-the-line
  rm -rf "$T/tty-repo"; cp -a "$REPO" "$T/tty-repo"
  script -q -e -c "stty cols 100; exec $(printf '%q' "$ARCA") backup --repo $(printf '%q' "$T/tty-repo") $(printf '%q' "$1")" /dev/null > "$2" 2>&1 &
  local spid=$! apid="" i
  for i in $(seq 1 600); do
    grep -aqF -- "$3" "$2" 2>/dev/null && break
    kill -0 $spid 2>/dev/null || break
    sleep 0.1
  done
  apid=$(pgrep -P $spid || true)  # the backup (exec'd by script's shell)
  if [ -n "$apid" ]; then kill -INT $apid 2>/dev/null || true; else kill $spid 2>/dev/null || true; fi
  wait $spid || true
}
tty_backup "$T/prog1" "$T/tty1.out" 'line\nbreak'
grep -aqF 'line\nbreak' "$T/tty1.out" || { cat -A "$T/tty1.out" | head -20; fail "the progress line did not escape the newline"; }
tty_backup "$T/prog2" "$T/tty2.out" '…é'
grep -aq '…é' "$T/tty2.out" || { cat -A "$T/tty2.out" | head -5; fail "the long name was not cut"; }
python3 - "$T/tty2.out" <<'P' || fail "the progress line split a UTF-8 character"
import sys
open(sys.argv[1], "rb").read().decode("utf-8")  # raises on a split character
P
echo PASS
