#!/usr/bin/python3
"""An HTTP proxy for S3 traffic that misbehaves on purpose, to prove Arca survives a hostile network.

It forwards each request unchanged (the Host header too, so SigV4 signatures stay valid) to the
upstream server, except every Nth request, which gets the next fault of the cycle:
  drop      read the request, close the connection without an answer
  reset     read the request, close with a TCP reset
  500       answer 500 InternalError without forwarding
  503       answer 503 SlowDown without forwarding
  429       answer 429 TooManyRequests without forwarding
  truncate  forward, then send the headers and only half the body and close
  stall     read the request, send nothing for --stall seconds, then close
A network partition: SIGUSR1 resets every request until SIGUSR2 heals it.
Usage: fault_proxy.py --upstream HOST:PORT --port-file F [--every N] [--faults drop,500,...] [--stall S]
Writes the port it listens on to F; prints one line per injected fault; SIGTERM stops it.
"""
import argparse, http.client, itertools, os, signal, socket, socketserver, struct, sys, threading, time

ERROR_XML = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected by fault_proxy</Message></Error>'
STATUS = {"500": (500, b"InternalError", "Internal Server Error"), "503": (503, b"SlowDown", "Slow Down"),
          "429": (429, b"TooManyRequests", "Too Many Requests")}


def read_request(rfile, wfile):
    line = rfile.readline()
    if not line:
        return None
    headers = []
    while True:
        h = rfile.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    length = int(next((v for n, v in headers if n.lower() == "content-length"), "0"))
    if any(n.lower() == "expect" and v.lower() == "100-continue" for n, v in headers):
        wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # as a server would; the upstream never sees it
        headers = [(n, v) for n, v in headers if n.lower() != "expect"]
    body = rfile.read(length) if length else b""
    method, path, _ = line.decode("latin-1").split(" ", 2)
    return method, path, headers, body


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            req = read_request(self.rfile, self.wfile)
            if req is None:
                return
            fault = "reset" if self.server.partitioned else self.server.next_fault(req[0])
            if fault:
                print(f"fault {fault} {req[0]} {req[1]}", flush=True)
            if fault in ("drop", "reset", "stall"):
                if fault == "stall":
                    time.sleep(self.server.stall)
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if fault in STATUS:
                code, s3code, text = STATUS[fault]
                body = ERROR_XML % s3code
                self.wfile.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n"
                                 % (code, text.encode(), len(body)) + body)
                continue
            status, reason, headers, body = self.forward(*req)
            head = "HTTP/1.1 %d %s\r\n" % (status, reason)
            length = None
            for n, v in headers:
                if n.lower() in ("transfer-encoding", "connection"):
                    continue
                if n.lower() == "content-length":
                    length = v
                    continue
                head += "%s: %s\r\n" % (n, v)
            head += "Content-Length: %s\r\n\r\n" % (length if req[0] == "HEAD" and length else len(body))
            if fault == "truncate":
                self.wfile.write(head.encode("latin-1") + body[: len(body) // 2])
                return
            self.wfile.write(head.encode("latin-1") + body)

    def forward(self, method, path, headers, body):
        conn = http.client.HTTPConnection(*self.server.upstream, timeout=120)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for n, v in headers:
                conn.putheader(n, v)
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.reason, resp.getheaders(), data
        finally:
            conn.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, args):
        super().__init__(("127.0.0.1", args.port), Handler)
        host, port = args.upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.every = args.every
        self.stall = args.stall
        self.cycle = itertools.cycle(args.faults.split(",")) if args.faults else None
        self.count = 0
        self.lock = threading.Lock()
        self.partitioned = False

    def next_fault(self, method):
        with self.lock:
            self.count += 1
            if not self.cycle or self.every <= 0 or self.count % self.every:
                return None
            fault = next(self.cycle)
            if fault == "truncate" and method == "HEAD":
                fault = "drop"  # a HEAD answer has no body to cut
            return fault


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--every", type=int, default=0)
    p.add_argument("--faults", default="drop,500,truncate,503,reset,stall,429")
    p.add_argument("--stall", type=float, default=3.0)
    args = p.parse_args()
    server = Server(args)
    signal.signal(signal.SIGTERM, lambda *_: (server.server_close(), sys.exit(0)))
    signal.signal(signal.SIGUSR1, lambda *_: setattr(server, "partitioned", True))
    signal.signal(signal.SIGUSR2, lambda *_: setattr(server, "partitioned", False))
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
