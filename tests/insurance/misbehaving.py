"""A loopback server that logs in like the BHXH gateway but answers the card
check with whatever the test scripts: garbled, empty, HTML, truncated,
wrong-type replies, odd statuses, dropped connections, replies that never end
(``endless``: a chunked body that goes on for ever) or trickle (``trickle_s``
between bytes)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_REPLY = json.dumps({"maKetQua": "200", "APIKey": {
    "access_token": "tok-A", "id_token": "id-A", "token_type": "Bearer", "username": "kiosk-demo",
    "expires_in": 600}}).encode()


class Reply:
    def __init__(self, body: bytes | str = b"", status: int = 200, *, headers: dict | None = None,
                 declared_length: int | None = None, drop: bool = False, endless: bool = False,
                 trickle_s: float = 0.0):
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.status, self.headers = status, headers or {"Content-Type": "application/json"}
        self.declared_length = declared_length  # a Content-Length that lies (truncated transfer)
        self.drop = drop  # close the connection without answering
        self.endless = endless  # a chunked body of spaces that never ends
        self.trickle_s = trickle_s  # the body one byte at a time, this long apart


class MisbehavingGateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.reply = Reply(b"{}")
        self.token_reply = Reply(TOKEN_REPLY)
        self.checks = 0
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def handle_error(self, request, client_address) -> None:
        pass  # clients hang up on purpose here (timeouts, oversized replies)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 - http.server API
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path.startswith("/api/token/take"):
            reply = self.server.token_reply
        else:
            self.server.checks += 1
            reply = self.server.reply
        if reply.drop:
            self.close_connection = True
            return
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if reply.endless or reply.trickle_s:
            self._misbehave(reply)
            return
        self.send_header("Content-Length", str(reply.declared_length or len(reply.body)))
        if reply.declared_length:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)
        if reply.declared_length:
            self.wfile.flush()
            self.close_connection = True

    def _misbehave(self, reply: Reply) -> None:
        self.close_connection = True
        try:
            if reply.endless:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while True:
                    self.wfile.write(b"400\r\n" + b" " * 1024 + b"\r\n")
                    self.wfile.flush()
                    time.sleep(0.005)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            for i in range(len(reply.body)):
                self.wfile.write(reply.body[i:i + 1])
                self.wfile.flush()
                time.sleep(reply.trickle_s)
        except OSError:
            pass  # the kiosk hung up, as it should
