"""A small real HTTP gateway in front of the sandbox HIS, for the doctor's
authentication and clock checks: it demands a bearer token (401 otherwise)
and can send its Date header shifted, as a HIS with a wrong clock would."""
from __future__ import annotations

import email.utils
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class HisGate:
    def __init__(self, upstream_base: str, *, token: str | None = None, skew_s: float = 0.0,
                 send_date: bool = True):
        self.upstream = upstream_base.rstrip("/")
        self.token, self.skew_s, self.send_date = token, skew_s, send_date
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if gate.token and self.headers.get("Authorization") != f"Bearer {gate.token}":
                    self._reply(401, b'{"resourceType":"OperationOutcome"}')
                    return
                path = self.path.split("/fhir/R4", 1)[-1]
                r = requests.get(gate.upstream + path, timeout=10)
                self._reply(r.status_code, r.content)

            def _reply(self, status: int, body: bytes):
                self.send_response_only(status)
                if gate.send_date:
                    self.send_header("Date", email.utils.formatdate(time.time() + gate.skew_s, usegmt=True))
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir/R4"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
