#!/usr/bin/env python3
"""Development proxy for the dashboard page (Python standard library only).

Serves the files of public/ at / (index.html), /app.js, /style.css with the same
Content-Security-Policy the real server sends, and forwards every other path
(/v1/..., /healthz, /openapi.yaml ...) to a running trade-tracker, so the page is
same-origin with the API. Request headers (If-None-Match, Last-Event-ID,
Authorization, Accept ...) and response headers (ETag, Link ...) pass through;
text/event-stream responses are streamed without buffering.

Optionally (--cors-origin ORIGIN, repeatable) it emulates the server's CORS rules
for those origins: Access-Control-Allow-Origin echo, Vary, Expose-Headers and a
204 answer to preflights. That lets Tests/browser/test_dashboard.py run all of its
checks against a server that does not do CORS yet (TT_DEV_PROXY=1).

    python3 Tests/browser/devproxy.py --upstream http://127.0.0.1:PORT [--port 8099]

Only for development: it binds 127.0.0.1 and is not part of the product.
"""

import argparse
import http.client
import mimetypes
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PUBLIC = os.path.normpath(os.path.join(HERE, "..", "..", "public"))

CSP = "default-src 'self'"
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailers", "transfer-encoding", "upgrade", "host", "content-length",
}
EXPOSE = ("ETag, Link, Location, X-Request-ID, Retry-After, RateLimit, "
          "RateLimit-Policy, Idempotent-Replayed")
ALLOW_HEADERS = ("Authorization, Content-Type, If-Match, If-None-Match, "
                 "Idempotency-Key, Last-Event-ID, X-Request-ID")
STATIC = {"/": "index.html", "/index.html": "index.html"}


def make_handler(upstream, public_dir, cors_origins, quiet):
    up = urllib.parse.urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            if not quiet:
                sys.stderr.write("devproxy: " + (fmt % args) + "\n")

        # -- CORS emulation -------------------------------------------------
        def cors_headers(self):
            origin = self.headers.get("Origin")
            if origin and origin in cors_origins:
                return [("Access-Control-Allow-Origin", origin),
                        ("Access-Control-Expose-Headers", EXPOSE)]
            return []

        # -- static files ---------------------------------------------------
        def static_path(self):
            path = urllib.parse.urlsplit(self.path).path
            if path in STATIC:
                return os.path.join(public_dir, STATIC[path])
            if path.startswith("/v1/") or path in ("/v1", "/healthz", "/readyz",
                                                    "/metrics", "/openapi.yaml"):
                return None
            name = path.lstrip("/")
            if not name or "/" in name or name.startswith("."):
                return None
            full = os.path.join(public_dir, name)
            return full if os.path.isfile(full) else None

        def serve_static(self, full, head=False):
            with open(full, "rb") as f:
                body = f.read()
            ctype = mimetypes.guess_type(full)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype in ("application/javascript",):
                ctype += "; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            if not head:
                self.wfile.write(body)

        # -- forwarding -----------------------------------------------------
        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn_cls = http.client.HTTPSConnection if up.scheme == "https" else http.client.HTTPConnection
            conn = conn_cls(up.hostname, up.port, timeout=120)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
            except OSError as e:
                msg = ("upstream unavailable: %s\n" % e).encode()
                self.send_response(502)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)
                return
            streaming = (resp.getheader("Content-Type") or "").startswith("text/event-stream")
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() in HOP_BY_HOP:
                    continue
                if k.lower() == "vary":
                    continue
                self.send_header(k, v)
            self.send_header("Vary", "Origin")
            for k, v in self.cors_headers():
                self.send_header(k, v)
            if streaming:
                # Unbuffered: pass each chunk on as soon as it arrives.
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    while True:
                        chunk = resp.read1(65536)
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except OSError:
                    pass
                finally:
                    conn.close()
                return
            data = resp.read()
            conn.close()
            no_body = resp.status in (204, 304) or self.command == "HEAD"
            if not no_body:
                self.send_header("Content-Length", str(len(data)))
            elif self.command == "HEAD" and resp.getheader("Content-Length"):
                self.send_header("Content-Length", resp.getheader("Content-Length"))
            self.end_headers()
            if not no_body:
                self.wfile.write(data)

        def handle_any(self):
            full = self.static_path()
            if full and self.command in ("GET", "HEAD"):
                return self.serve_static(full, head=self.command == "HEAD")
            if (self.command == "OPTIONS" and self.headers.get("Access-Control-Request-Method")
                    and self.headers.get("Origin") in cors_origins):
                self.send_response(204)
                for k, v in self.cors_headers():
                    self.send_header(k, v)
                self.send_header("Access-Control-Allow-Methods", "GET, HEAD, POST, PATCH, DELETE, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", ALLOW_HEADERS)
                self.send_header("Access-Control-Max-Age", "600")
                self.send_header("Vary", "Origin")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.forward()

        do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = do_OPTIONS = handle_any

    return Handler


def start(upstream, port=0, public_dir=DEFAULT_PUBLIC, cors_origins=(), quiet=True):
    """Start the proxy in a daemon thread; returns (server, port)."""
    handler = make_handler(upstream, public_dir, set(cors_origins), quiet)
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", required=True, help="trade-tracker base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--port", type=int, default=8099)
    ap.add_argument("--public", default=DEFAULT_PUBLIC)
    ap.add_argument("--cors-origin", action="append", default=[])
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    handler = make_handler(args.upstream.rstrip("/"), args.public, set(args.cors_origin), args.quiet)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    print("devproxy on http://127.0.0.1:%d -> %s (public: %s)" % (server.server_address[1], args.upstream, args.public),
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
