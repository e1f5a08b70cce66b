#!/usr/bin/python3
"""A minimal Alertmanager webhook receiver for tests/e2e/server_alerts.sh.

Usage: alert_receiver.py PORT_FILE LOG_FILE
Listens on a free loopback port (written to PORT_FILE once listening, so that the test never
races for a port), and appends every POSTed notification to LOG_FILE as one JSON line.
"""
import http.server
import json
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            json.loads(body)
        except ValueError:
            self.send_response(400)
            self.end_headers()
            return
        # One write per line, flushed at once: the test reads the file while we run.
        with open(self.server.log_file, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass  # the test reads LOG_FILE; request lines on stderr would only be noise


def main():
    port_file, log_file = sys.argv[1], sys.argv[2]
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    server.log_file = log_file
    # Written under a temporary name and renamed, so that a reader never sees half a number.
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
