"""The gateway simulator's HTTP server (stdlib only; imports nothing from the kiosk).

Gateway endpoints, as public integrations describe them:

- ``POST /api/token/take`` — form (or JSON) ``username``, ``password`` (MD5
  hex) → ``{"maKetQua": "200", "APIKey": {access_token, id_token, token_type,
  username, expires_in}}``; wrong credentials → ``maKetQua`` "401".
- ``POST /api/egw/KQNhanLichSuKCB2024?token=&id_token=&username=&password=``
  — form ``maThe``, ``hoTen``, ``ngaySinh``, ``hoTenCb``, ``cccdCb`` → the
  card's data and ``maKetQua``. An unknown or expired token → ``maKetQua``
  "401" (or HTTP 401, see ``/__admin/reject``).

Test controls under ``/__admin/`` (the server listens on 127.0.0.1 only):
``GET stats``, ``POST reset-stats``, ``POST mode`` {slow_s, down, token_ttl_s},
``POST expire-tokens``, ``POST reject`` {count, style: "code" | "http"}.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from sandbox_bhxh import cards as C

USERNAME = "kiosk-demo"
PASSWORD = "demo-gateway-password"
STAFF = {"027190000111": "PHẠM THỊ THU"}  # cccdCb -> hoTenCb registered for the demo facility
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

TOKEN_PATH = "/api/token/take"
CHECK_PATH = "/api/egw/KQNhanLichSuKCB2024"
DOWN_PAGE = (b"<html><head><title>503 Service Temporarily Unavailable</title></head>"
             b"<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>")
_BIRTH_RE = re.compile(r"^(\d{2}/\d{2}/\d{4}|\d{4})$")
_CARD_SHAPE_RE = re.compile(r"^(\d{10}|\d{12}|[A-Z]{2}\d{13})$")


class State:
    def __init__(self, *, token_ttl_s: float = 600.0, slow_s: float = 0.0, down: bool = False,
                 facility: str | None = None, demo_file=C.DEMO_FILE):
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.token_ttl_s, self.slow_s, self.down = token_ttl_s, slow_s, down
        self.facility = facility or C.demo_facility(demo_file)
        self.cards = C.index(C.code_cards(self.facility) + C.demo_cards(demo_file))
        self.password_md5 = hashlib.md5(PASSWORD.encode()).hexdigest()
        self.tokens: dict[str, tuple[str, float]] = {}  # access_token -> (id_token, expiry on the monotonic clock)
        self.reject_count, self.reject_style = 0, "code"
        self.reset_stats()

    def reset_stats(self) -> None:
        with self.lock:
            self.stats = {"token_requests": 0, "check_requests": 0, "logins_refused": 0, "tokens_rejected": 0,
                          "results": {}, "last_check": None}

    def count(self, key: str, code: str | None = None) -> None:
        with self.lock:
            self.stats[key] += 1
            if code:
                self.stats["results"][code] = self.stats["results"].get(code, 0) + 1

    def new_token(self) -> dict:
        access, ident = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[access] = (ident, time.monotonic() + self.token_ttl_s)
        return {"access_token": access, "id_token": ident, "token_type": "Bearer", "username": USERNAME,
                "expires_in": self.token_ttl_s}

    def token_refusal(self, query: dict) -> str | None:
        """None when the query's token and credentials are good; otherwise how
        to refuse: "code" (maKetQua 401) or "http" (HTTP 401)."""
        with self.lock:
            if self.reject_count > 0:
                self.reject_count -= 1
                return self.reject_style
            known = self.tokens.get(query.get("token", ""))
        good = (known is not None and known[0] == query.get("id_token") and time.monotonic() < known[1]
                and query.get("username") == USERNAME and query.get("password") == self.password_md5)
        return None if good else "code"


def check_card(state: State, form: dict) -> tuple[C.Card | None, str]:
    """(card, maKetQua) for one check form."""
    fields = [form.get(k, "").strip() for k in ("maThe", "hoTen", "ngaySinh", "hoTenCb", "cccdCb")]
    number, name, birth, staff_name, staff_cccd = fields
    if not all(fields) or not _BIRTH_RE.match(birth):
        return None, "205"
    if staff_cccd not in STAFF:
        return None, "054"
    if not C.same_name(staff_name, STAFF[staff_cccd]):
        return None, "055"
    number = number.upper()
    if not _CARD_SHAPE_RE.match(number):
        return None, "051"
    card = state.cards.get(number)
    if card is None:
        return None, "050"
    if card.forced:
        return card, card.result
    if not C.same_name(name, card.name):
        return card, "060"
    if birth != card.birth:
        return card, "070"
    return card, card.result


class Handler(BaseHTTPRequestHandler):
    server_version = "BHXH-gateway-simulator/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def state(self) -> State:
        return self.server.state

    def log_message(self, *args):  # requests carry passwords and card numbers: no access log
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str = "application/json; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, obj, status: int = 200) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"))

    def _form(self, raw: bytes) -> tuple[dict, str]:
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind == "application/json":
            try:
                obj = json.loads(raw or b"{}")
            except ValueError:
                obj = {}
            return ({str(k): str(v) for k, v in obj.items()} if isinstance(obj, dict) else {}), "json"
        pairs = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in pairs.items()}, "form"

    def do_GET(self):  # noqa: N802 - http.server API
        if urlsplit(self.path).path == "/__admin/stats":
            with self.state.lock:
                self._json(json.loads(json.dumps(self.state.stats)))
            return
        self._json({"maKetQua": "404", "message": "not found"}, 404)

    def do_POST(self):  # noqa: N802 - http.server API
        url = urlsplit(self.path)
        raw = self._body()
        if url.path.startswith("/__admin/"):
            return self._admin(url.path[len("/__admin/"):], raw)
        if url.path not in (TOKEN_PATH, CHECK_PATH):
            return self._json({"maKetQua": "404", "message": "not found"}, 404)
        if self.state.slow_s > 0 and self.state.stopping.wait(self.state.slow_s):
            return
        if self.state.down:
            return self._send(503, DOWN_PAGE, "text/html")
        form, encoding = self._form(raw)
        if url.path == TOKEN_PATH:
            return self._token(form)
        return self._check(form, encoding, {k: v[0] for k, v in parse_qs(url.query).items()})

    def _token(self, form: dict) -> None:
        self.state.count("token_requests")
        if form.get("username") != USERNAME or form.get("password") != self.state.password_md5:
            self.state.count("logins_refused")
            return self._json({"maKetQua": "401", "APIKey": None, "message": "Sai tên đăng nhập hoặc mật khẩu"})
        self._json({"maKetQua": "200", "APIKey": self.state.new_token()})

    def _check(self, form: dict, encoding: str, query: dict) -> None:
        state = self.state
        with state.lock:
            state.stats["last_check"] = {"encoding": encoding, "query_keys": sorted(query), "form_keys": sorted(form)}
        refusal = state.token_refusal(query)
        if refusal:
            state.count("check_requests", "401")
            state.count("tokens_rejected")
            if refusal == "http":
                return self._send(401, b'{"message": "Unauthorized"}')
            return self._json({"maKetQua": "401", "ghiChu": C.NOTES["401"]})
        card, code = (None, "205") if encoding != "form" else check_card(state, form)
        state.count("check_requests", code)
        self._json(C.reply(card, code, datetime.now(TIMEZONE).date()))

    def _admin(self, action: str, raw: bytes) -> None:
        state = self.state
        try:
            args = json.loads(raw or b"{}")
        except ValueError:
            args = {}
        if action == "reset-stats":
            state.reset_stats()
        elif action == "mode":
            with state.lock:
                state.slow_s = float(args.get("slow_s", 0.0))
                state.down = bool(args.get("down", False))
                if args.get("token_ttl_s") is not None:
                    state.token_ttl_s = float(args["token_ttl_s"])
        elif action == "expire-tokens":
            with state.lock:
                state.tokens.clear()
        elif action == "reject":
            with state.lock:
                state.reject_count = int(args.get("count", 1))
                state.reject_style = "http" if args.get("style") == "http" else "code"
        else:
            return self._json({"error": f"unknown admin action {action!r}"}, 404)
        self._json({"ok": True})


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, state: State | None = None, host: str = "127.0.0.1"):
        self.state = state or State()
        super().__init__((host, port), Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def handle_error(self, request, client_address) -> None:
        """A client that hung up (its timeout ran out while the simulator was
        slow) is normal here; anything else is printed as usual."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def stop(self) -> None:
        self.state.stopping.set()
        self.shutdown()
        self.server_close()
