#!/usr/bin/env python3
"""A tiny HTTP/1.1 file server with byte ranges (HEAD, GET, 'Range: bytes=A-B'), for nbdkit's curl plugin.

python3 -m http.server has no Range support, which the curl plugin needs. Usage: range-http-server.py FILE PORTFILE
(serves FILE on a free loopback port, written to PORTFILE once listening).
"""
import http.server
import os
import re
import sys

PATH = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _range(self, size):
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if not m:
            return None
        a, b = m.group(1), m.group(2)
        if a == "":
            start, end = max(0, size - int(b)), size - 1
        else:
            start, end = int(a), min(size - 1, int(b) if b else size - 1)
        return start, end

    def _head(self, send_body):
        size = os.path.getsize(PATH)
        r = self._range(size)
        if r is None:
            start, end, code = 0, size - 1, 200
        else:
            start, end = r
            code = 206
        self.send_response(code)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start + 1))
        if code == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        if send_body:
            with open(PATH, "rb") as f:
                f.seek(start)
                left = end - start + 1
                while left > 0:
                    chunk = f.read(min(left, 1 << 20))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)

    def do_HEAD(self):
        self._head(False)

    def do_GET(self):
        self._head(True)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
