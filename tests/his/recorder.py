"""A loopback FHIR stand-in that records every request (method, path, headers) and
answers with scripted statuses and bodies (then 200 and an empty searchset): for
tests of the FHIR client's own behaviour (retries, headers, TLS, sign-in).
``faults`` scripts answers that misbehave in size or time (``FAULTS``)."""
from __future__ import annotations

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE_BYTES = 50 * 1024 * 1024
FAULTS = {
    "huge": "a 50 MB searchset (chunked, no Content-Length)",
    "huge_declared": "a 50 MB searchset with its Content-Length",
    "endless": "a chunked searchset that never ends",
    "trickle": "a searchset sent one byte every 50 ms",
}


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, str, dict]] = []
        self.statuses: list[int] = []  # scripted statuses, then 200
        self.bodies: list[tuple[str, bytes]] = []  # scripted (content type, body) of 2xx answers
        self.faults: list[str] = []  # scripted misbehaviours (FAULTS), one per request, before the above
        self.sent_bytes = 0  # body bytes the misbehaving answers got out before the client hung up
        self.hung_up = threading.Event()  # set when a misbehaving answer's client hung up

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
        fault = self.server.faults.pop(0) if self.server.faults else ""
        if fault:  # "" answers this request as usual
            return self._misbehave(fault)
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

    def _misbehave(self, fault: str) -> None:
        head = b'{"resourceType": "Bundle", "type": "searchset", "entry": ['
        entry = b'{"resource": {"resourceType": "Patient", "id": "p", "name": [{"text": "' + b"x" * 60000 + b'"}]}},'
        self.close_connection = True
        self.protocol_version = "HTTP/1.1"  # chunked answers
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        try:
            if fault == "trickle":
                body = b'{"resourceType": "Bundle", "type": "searchset", "entry": []}' + b" " * 100_000
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for i in range(len(body)):
                    self._send(body[i:i + 1])
                    time.sleep(0.05)
                return
            if fault == "huge_declared":
                self.send_header("Content-Length", str(HUGE_BYTES))
                self.end_headers()
                self._send(head)
                while self.server.sent_bytes < HUGE_BYTES - 2 * len(entry):
                    self._send(entry)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._chunk(head)
            sent = 0
            while fault == "endless" or sent < HUGE_BYTES:
                self._chunk(b" " * 1024 if fault == "endless" else entry)
                sent += len(entry)
                if fault == "endless":
                    time.sleep(0.002)
            self._chunk(b'{"resource": {"resourceType": "Patient", "id": "q"}}]}')
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.server.hung_up.set()

    def _chunk(self, data: bytes) -> None:
        self._send(b"%x\r\n" % len(data) + data + b"\r\n")

    def _send(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()
        self.server.sent_bytes += len(data)


def start_recorder() -> Recorder:
    srv = Recorder()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv
