#!/usr/bin/env bash
# S3 over TLS (stunnel with a self-signed certificate in front of the test server): an untrusted
# certificate is a clear error that is not retried; with the CA given (s3.ca-bundle) everything works.
source "$(dirname "$0")/lib.sh"
load_s3_env
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=arca-test" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$T/key.pem" -out "$T/cert.pem" 2> /dev/null
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$T/stunnel.conf" <<C
foreground = yes
pid =
[s3]
accept = 127.0.0.1:$port
connect = ${ARCA_TEST_S3_ENDPOINT#http://}
cert = $T/cert.pem
key = $T/key.pem
C
stunnel4 "$T/stunnel.conf" > "$T/stunnel.log" 2>&1 &
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
R=s3:https://127.0.0.1:$port/arca-e2e/$(basename "$T")

step "untrusted certificate: exit 1 at once, says how to trust it"
start=$(date +%s)
expect_exit 1 a init --repo "$R" --create-bucket --kdf-memory 8192 --kdf-time 1
err_contains "TLS"; err_contains "s3.ca-bundle"
[ $(( $(date +%s) - start )) -lt 5 ] || fail "a certificate error was retried"

step "with the CA: init, backup, restore, check"
CA=(-o "s3.ca-bundle=$T/cert.pem")
init_repo "$R" "${CA[@]}"
make_tree "$T/src"
a backup --repo "$R" "${CA[@]}" "$T/src" -q
a restore --repo "$R" "${CA[@]}" latest --target "$T/out" --verify -q
same_tree "$T/src" "$T/out/src"
a check --repo "$R" "${CA[@]}" --read-data -q
a snapshots --repo "$R" -o s3.insecure-tls=true -q > /dev/null
echo PASS
