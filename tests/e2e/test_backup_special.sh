#!/usr/bin/env bash
# FIFOs, sockets and device nodes are stored (metadata and device numbers, never opened) and
# recreated on restore, as restic does: full-system and container restores need them.
source "$(dirname "$0")/lib.sh"

S=$T/src
mkdir -p "$S/dev"
echo data > "$S/file.txt"
mkfifo -m 640 "$S/pipe"
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$S/sock"
mknod -m 666 "$S/dev/null" c 1 3 || fail "mknod needs root"
mknod -m 660 "$S/dev/loop7" b 7 7
chown 12:34 "$S/pipe"
touch -h -d '2020-01-02 03:04:05' "$S/pipe" "$S/dev/null"
init_repo

step "backup stores them, opening none (a FIFO would block the backup)"
timeout 60 "$ARCA" backup --repo "$REPO" "$S" --json > "$T/b.json" 2> "$T/err" || { cat "$T/err" >&2; fail "backup failed"; }
python3 - "$T/b.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["partial"] is False, s
assert s["stats"]["special"] == 4, s["stats"]
PY
a ls --repo "$REPO" latest > "$T/ls"
for p in src/pipe src/sock src/dev/null src/dev/loop7; do grep -qx "$p" "$T/ls" || fail "$p not in the snapshot"; done
a ls --repo "$REPO" latest -l > "$T/lsl"
grep -q '^prw-r-----.*src/pipe' "$T/lsl" && grep -q '^crw-rw-rw-.*src/dev/null' "$T/lsl" \
  && grep -q '^brw-rw----.*src/dev/loop7' "$T/lsl" && grep -q '^s.*src/sock' "$T/lsl" \
  || { cat "$T/lsl" >&2; fail "ls -l does not show the special files' types"; }
a backup --repo "$REPO" "$S/pipe" -q || fail "a FIFO given as the path is refused"

step "restore recreates them with type, device number, mode, owner and times"
first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/b.json")
a restore --repo "$REPO" "$first" --target "$T/out" -q
st() { stat -c '%F|%t:%T|%a|%u:%g|%Y' "$1"; }
for p in pipe sock dev/null dev/loop7; do
  [ "$(st "$S/$p")" = "$(st "$T/out/src/$p")" ] || fail "$p restored as $(st "$T/out/src/$p"), was $(st "$S/$p")"
done
[ "$(cat "$T/out/src/file.txt")" = data ] || fail "regular file not restored"

step "a second restore over them (delta) replaces nothing wrongly"
a restore --repo "$REPO" "$first" --target "$T/out" --delete -q
[ -p "$T/out/src/pipe" ] && [ -c "$T/out/src/dev/null" ] || fail "second restore lost special files"
a check --repo "$REPO" -q
echo PASS
