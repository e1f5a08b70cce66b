# Shared helpers for Arca's end-to-end tests. Each test sources this file, gets a private
# temporary directory $T (removed on exit), a fresh repository $REPO and the arca binary $ARCA.
set -euo pipefail

ARCA=${ARCA:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/arca}
T=$(mktemp -d /tmp/arca-e2e-XXXXXX)
REPO=$T/repo
# python3 on PATH may be a pyenv shim, a shell script that costs ~0.5 s of CPU per call (a test
# makes dozens of calls: test_backup_restore.sh took 30 s instead of 10). The tests need only the
# standard library, so they run the system's python3 (through PATH, for children and `&` too).
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]; then
  mkdir "$T/.bin" && ln -s /usr/bin/python3 "$T/.bin/python3" && PATH=$T/.bin:$PATH
fi
# With ARCA_TEST_ON_S3=1 the repository is in the S3 test server that ctest started (its
# address and credentials in the file $ARCA_TEST_S3_ENV), under a fresh prefix.
load_s3_env() {
  [ -r "${ARCA_TEST_S3_ENV:-}" ] || { echo "FAIL: S3 test server env file '${ARCA_TEST_S3_ENV:-}' missing" >&2; exit 1; }
  set -a; source "$ARCA_TEST_S3_ENV"; set +a
}
if [ "${ARCA_TEST_ON_S3:-}" = 1 ]; then
  load_s3_env
  REPO=s3:$ARCA_TEST_S3_ENDPOINT/arca-e2e/$(basename "$T")
fi
export ARCA_PASSWORD=correct-horse
unset ARCA_PASSWORD_FILE ARCA_KEY_FILE ARCA_REPOSITORY
cleanup() {
  local rc=$?
  # Background jobs a test left behind (by PID, never by name).
  for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
  if mountpoint -q "$T/small" 2>/dev/null; then umount "$T/small"; fi
  chmod -R u+rwX "$T" 2>/dev/null || true
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# Whether process $1 still runs (a zombie has exited: it holds no files or ports any more).
running() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
step() { echo "--- $*"; }

# arca with the test repository and a cheap KDF (the default Argon2id cost is for real use).
a() { "$ARCA" "$@"; }
init_repo() {
  local r=${1:-$REPO} extra=()
  [[ $r == s3:* ]] && extra=(--create-bucket)
  a init --repo "$r" --kdf-memory 8192 --kdf-time 1 -q "${extra[@]}" "${@:2}"
}

# Runs a command, requires exit code $1, and keeps its stderr in $T/err for inspection.
expect_exit() {
  local want=$1; shift
  set +e
  "$@" > "$T/.stdout" 2> "$T/err"
  local got=$?
  set -e
  [ "$got" = "$want" ] || { cat "$T/err" >&2; fail "expected exit $want, got $got: $*"; }
}
err_contains() { grep -q -- "$1" "$T/err" || { cat "$T/err" >&2; fail "stderr lacks '$1'"; }; }

# One line per entry: path, type, mode, owner, size, mtime, link target, content hash, xattrs
# (manifest.py: one process per tree).
manifest() { python3 "$(dirname "${BASH_SOURCE[0]}")/manifest.py" "$1"; }

# Requires two directory trees to be identical in content and metadata.
same_tree() {
  manifest "$1" > "$T/m1"
  manifest "$2" > "$T/m2"
  diff "$T/m1" "$T/m2" > "$T/mdiff" || { head -20 "$T/mdiff" >&2; fail "trees differ: $1 vs $2"; }
}

# A varied tree: text, binary, empty, nested, symlinks, a hard link, modes, xattrs, times.
make_tree() {
  local d=$1
  mkdir -p "$d/docs/deep/er" "$d/bin" "$d/empty-dir"
  seq 1 20000 | sed 's/$/ lorem ipsum dolor sit amet/' > "$d/docs/text.txt"
  head -c 3000000 /dev/urandom > "$d/bin/random.bin"
  head -c 5000 /dev/urandom > "$d/docs/deep/er/small.bin"
  : > "$d/empty-file"
  echo "secret" > "$d/docs/private.txt"; chmod 600 "$d/docs/private.txt"
  echo "#!/bin/sh" > "$d/bin/tool.sh"; chmod 755 "$d/bin/tool.sh"
  ln -s ../docs/text.txt "$d/bin/link-to-text"
  ln -s /nonexistent/target "$d/dangling"
  ln "$d/docs/text.txt" "$d/docs/hardlink.txt"
  for i in $(seq 1 50); do echo "file $i" > "$d/docs/deep/f$i.txt"; done
  setfattr -n user.arca -v test-value "$d/docs/text.txt" 2>/dev/null || true
  setcap cap_net_raw+ep "$d/bin/tool.sh" 2>/dev/null || true   # a file capability (security.capability xattr)
  chown 1234:4321 "$d/docs/deep/f1.txt" 2>/dev/null || true
  touch -d '2001-02-03 04:05:06.123456789' "$d/docs/deep/f2.txt"
  echo latin1 > "$d/docs/$(printf 'caf\xe9.txt')"             # a name that is not UTF-8
  ln -s "$(printf 'target-\xff')" "$d/docs/odd-link"
  touch -d '2002-01-01' "$d/docs/deep"
}

json_field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d'+sys.argv[2]))" "$@"; }

# Inverts the byte at offset $2 of file $1 (always a real change, unlike writing a fixed value).
flip_byte() {
  python3 -c "import sys; f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])); b=f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0]^0xff]))" "$1" "$2"
}

# interrupt_and_time NAME SIGNAL READY-TEST -- COMMAND...: starts COMMAND, waits until READY-TEST
# (eval'd; the command's process id is $pid) succeeds, i.e. the command is busy with its long
# part, sends SIGNAL, and requires
# exit 130 within $CANCEL_LIMIT_S s (default 1.5) with a message saying so; prints the measured
# latency. The command's stderr is left in $T/err.
interrupt_and_time() {
  local name=$1 sig=$2 ready=$3 limit=${CANCEL_LIMIT_S:-1.5}
  shift 4
  set +e
  "$@" > "$T/.stdout" 2> "$T/err" &
  local pid=$! waited=0
  until eval "$ready"; do
    sleep 0.02
    waited=$((waited + 1))
    if ! kill -0 $pid 2>/dev/null; then
      wait $pid; cat "$T/err" >&2
      fail "$name ended before it could be cancelled (test inconclusive: more data needed)"
    fi
    [ $waited -lt 3000 ] || { kill -9 $pid; fail "$name never got busy"; }
  done
  local t0 t1 rc latency
  t0=$(date +%s.%N); kill -"$sig" $pid; wait $pid; rc=$?; t1=$(date +%s.%N)
  set -e
  latency=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
  echo "cancel latency $name: $latency s (SIG$sig)"
  [ $rc = 130 ] || { cat "$T/err" >&2; fail "$name: exit $rc after SIG$sig, expected 130"; }
  grep -Eqi "cancelled|interrupted" "$T/err" || { cat "$T/err" >&2; fail "$name: no 'cancelled' or 'interrupted' message"; }
  python3 -c "import sys; sys.exit(0 if $latency <= $limit else 1)" || fail "$name took $latency s to stop (limit $limit s)"
}

# The number of recovery points in $REPO.
points() { a snapshots --repo "$REPO" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
