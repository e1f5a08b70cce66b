#!/usr/bin/env python3
# OUR OWN TEST SERVER standing in for a hostile Redis master: no real Redis server misbehaves on
# purpose, so this script speaks just enough RESP on loopback (PING, INFO, REPLCONF, PSYNC) to
# take Arca into a full resynchronisation, then sends what a malicious master could.
#
# Usage: hostile_redis_master.py PORTFILE MODE
#   bigstring      sized payload ($<n>) whose first key declares a 512 MiB string
#   bigstring-eof  the same, diskless ($EOF:<mark>), and the connection closes
#   biglzf         sized payload with an LZF string declaring 512 MiB compressed
#   bigarray       PING answered with an array announcing 2^24 elements
#   bigbulk        PING answered with a bulk string announcing 512 MiB, then the connection closes
import socket
import struct
import sys

port_file, mode = sys.argv[1], sys.argv[2]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(4)
with open(port_file, "w") as f:
    f.write(str(srv.getsockname()[1]))


def read_command(f):
    line = f.readline()
    if not line:
        return None
    n = int(line[1:])
    args = []
    for _ in range(n):
        size = int(f.readline()[1:])
        args.append(f.read(size + 2)[:-2].decode())
    return args


def bulk(s):
    return b"$%d\r\n%s\r\n" % (len(s), s)


MiB512 = struct.pack(">I", 512 << 20)
payloads = {
    "bigstring": b"REDIS0011" + b"\x00\x80" + MiB512 + b"k" * 100,
    "biglzf": b"REDIS0011" + b"\x00\xc3\x80" + MiB512 + b"\x80" + MiB512 + b"z" * 100,
}
payloads["bigstring-eof"] = payloads["bigstring"]

while True:
    conn, _ = srv.accept()
    f = conn.makefile("rb")
    try:
        while True:
            cmd = read_command(f)
            if cmd is None:
                break
            name = cmd[0].upper()
            if name == "PING":
                if mode == "bigarray":
                    conn.sendall(b"*16777216\r\n" + b":1\r\n" * 1000)
                    break
                if mode == "bigbulk":
                    conn.sendall(b"$536870912\r\n" + b"x" * 1000)
                    break
                conn.sendall(b"+PONG\r\n")
            elif name == "INFO":
                conn.sendall(bulk(b"# Server\r\nredis_version:7.2.4\r\n" if cmd[1] == "server" else b"# Keyspace\r\n"))
            elif name == "REPLCONF":
                conn.sendall(b"+OK\r\n")
            elif name == "PSYNC":
                conn.sendall(b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n\n\n")
                body = payloads[mode]
                if mode.endswith("-eof"):
                    conn.sendall(b"$EOF:" + b"m" * 40 + b"\r\n" + body)
                    break
                conn.sendall(b"$%d\r\n" % (len(body) + 1000) + body)
            else:
                conn.sendall(b"-ERR unknown command\r\n")
    except (ConnectionError, ValueError):
        pass
    try:
        f.close()
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()
    except OSError:
        pass
