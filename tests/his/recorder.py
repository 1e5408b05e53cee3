"""A loopback FHIR stand-in that records every request (method, path, headers) and
answers with scripted statuses and bodies (then 200 and an empty searchset): for
tests of the FHIR client's own behaviour (retries, headers, TLS, sign-in)."""
from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, str, dict]] = []
        self.statuses: list[int] = []  # scripted statuses, then 200
        self.bodies: list[tuple[str, bytes]] = []  # scripted (content type, body) of 2xx answers

    @property
    def url(self):
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}/fhir"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        body = json.dumps({"resourceType": "OperationOutcome", "issue": [{"code": "x"}]} if status >= 400
                          else {"resourceType": "Bundle", "type": "searchset", "entry": []}).encode()
        ctype = "application/fhir+json"
        if status < 400 and self.server.bodies:
            ctype, body = self.server.bodies.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = _answer


def start_recorder() -> Recorder:
    srv = Recorder()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv
