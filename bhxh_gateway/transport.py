"""HTTP to the BHXH gateway: pooled ``requests`` sessions, every wait bounded
by the caller's deadline, the login token shared by all threads.

Privacy: the check sends the password (its MD5) and the token in the query
string, so a URL of this gateway must never reach a log, an exception text,
a metric or a ``repr``. ``requests`` exceptions embed the URL: only their
class name is kept. Redirects are not followed (they would carry the query
string elsewhere).
"""
from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import requests

from bhxh_gateway.codes import LOGIN_KEYS
from bhxh_gateway.reply import MAX_BODY_BYTES, Garbled, LoginRefused, json_object, parse_token
from kiosk.config.loader import InsuranceSection
from kiosk.config.secret_files import CREDENTIALS_VAR, secret_path
from kiosk.insurance.card_check import CoverageStatus
from kiosk.operations import metrics
from kiosk.operations.bounded_read import AnswerTooLarge, AnswerTooSlow, Watchdog, check_declared, read_capped

log = logging.getLogger(__name__)

TOKEN_PATH = "/api/token/take"
CHECK_PATH = "/api/egw/KQNhanLichSuKCB2024"
MIN_REQUEST_S = 0.05  # less time than this left: do not start a request


class Trouble(Exception):
    """No usable answer. ``status`` is unavailable (try later) or refused
    (the kiosk's credentials or settings); ``reason`` is for IT (no URL, no
    personal data)."""

    def __init__(self, status: CoverageStatus, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def unavailable(reason: str) -> Trouble:
    return Trouble(CoverageStatus.UNAVAILABLE, reason)


def refused(reason: str) -> Trouble:
    return Trouble(CoverageStatus.REFUSED, reason)


def http_trouble(what: str, status: int) -> Trouble:
    """What a non-200 HTTP status means (401 is handled by the caller)."""
    if status >= 500 or status in (408, 429):
        return unavailable(f"{what}: the gateway answered HTTP {status}")
    if status == 403:
        return refused(f"{what}: the gateway answered HTTP 403: is this kiosk's IP registered with BHXH "
                       f"and the account ({LOGIN_KEYS}) allowed to look cards up?")
    return refused(f"{what}: the gateway answered HTTP {status}: check insurance.base_url")


class Transport:
    """Sessions are lent to one request at a time (a ``requests.Session`` is
    not safe for concurrent use) and kept for the next one (connection reuse)."""

    KEEP_IDLE = 4

    def __init__(self, settings: InsuranceSection, session_factory=requests.Session):
        self.base = settings.base_url.rstrip("/")
        self._factory = session_factory
        self._idle: list[requests.Session] = []
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return "Transport(bhxh)"

    @contextmanager
    def _session(self):
        with self._lock:
            s = self._idle.pop() if self._idle else None
        if s is None:
            s = self._factory()
            s.headers.update({"Accept": "application/json", "User-Agent": "patient-kiosk/0.1"})
        try:
            yield s
        finally:
            with self._lock:
                keep = not self._closed and len(self._idle) < self.KEEP_IDLE
                if keep:
                    self._idle.append(s)
            if not keep:
                s.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for s in idle:
            s.close()

    def post(self, path: str, *, form: dict, deadline: float, kind: str,
             params: dict | None = None) -> tuple[int, bytes]:
        """POST a form; (HTTP status, body). Raises ``Trouble`` when no reply
        arrives in time or the connection fails."""
        remaining = deadline - time.monotonic()
        if remaining < MIN_REQUEST_S:
            raise unavailable(f"{kind}: no time left within insurance.timeout_s")
        started = time.perf_counter()
        metrics.INSURANCE_GATEWAY_REQUESTS.inc(kind=kind)
        try:
            with self._session() as session:
                r = session.post(self.base + path, params=params, data=form, stream=True,
                                 allow_redirects=False, timeout=(remaining, remaining))
                try:
                    body = _read_body(r, deadline, kind)
                finally:
                    r.close()
        except requests.exceptions.SSLError as exc:
            raise refused(f"{kind}: TLS certificate of the gateway not accepted ({type(exc).__name__}); "
                          "check insurance.base_url") from None
        except requests.exceptions.Timeout as exc:
            raise unavailable(f"{kind}: no answer within insurance.timeout_s ({type(exc).__name__})") from None
        except requests.exceptions.RequestException as exc:
            raise unavailable(f"{kind}: {type(exc).__name__} talking to the gateway") from None
        finally:
            seconds = time.perf_counter() - started
            metrics.INSURANCE_GATEWAY_SECONDS.observe(seconds, kind=kind)
        log.debug("gateway request", extra={"event": "insurance.request", "kind": kind, "http_status": r.status_code,
                                            "duration_ms": round(seconds * 1000, 1)})
        return r.status_code, body


def _read_body(r: requests.Response, deadline: float, kind: str) -> bytes:
    """The body, at most ``MAX_BODY_BYTES`` and complete by ``deadline``: a body
    that trickles or never ends has its socket shut when the deadline passes
    (``kiosk.operations.bounded_read``); the rest is never read."""
    try:
        check_declared(r.headers.get("Content-Length"), MAX_BODY_BYTES)
        with Watchdog(deadline, lambda: _shut(r)) as dog:
            return read_capped(r.iter_content(16384), max_bytes=MAX_BODY_BYTES, deadline=deadline, watchdog=dog)
    except AnswerTooLarge:
        raise unavailable(f"{kind}: reply larger than {MAX_BODY_BYTES // 1024} KB") from None
    except AnswerTooSlow:
        raise unavailable(f"{kind}: reply not complete within insurance.timeout_s") from None


def _shut(r: requests.Response) -> None:
    conn = getattr(r.raw, "connection", None) or getattr(r.raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@dataclass(frozen=True)
class Token:
    access: str = field(repr=False)
    ident: str = field(repr=False)
    username: str = field(repr=False)
    password_md5: str = field(repr=False)
    expires_at: float  # time.monotonic() clock
    renew_at: float

    def query(self) -> dict:
        return {"token": self.access, "id_token": self.ident, "username": self.username,
                "password": self.password_md5}


def password_md5(path: str) -> str:
    """MD5 hex of the password in ``insurance.password_file`` (first line,
    surrounding whitespace removed), as public integrations send it."""
    file = secret_path(path)
    if file is None:
        raise refused(f"insurance.password_file names ${CREDENTIALS_VAR}, which is not set for this process")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise refused(f"insurance.password_file cannot be read ({type(exc).__name__})") from None
    lines = text.strip().splitlines()
    secret = lines[0].strip() if lines else ""
    if not secret:
        raise refused("insurance.password_file is empty")
    return hashlib.md5(secret.encode("utf-8")).hexdigest()


class Tokens:
    """The login token, requested once and shared by every thread until
    shortly before it expires (the gateway rate-limits logins)."""

    def __init__(self, transport: Transport, settings: InsuranceSection):
        self.transport, self.settings = transport, settings
        self._lock = threading.Lock()
        self._token: Token | None = None

    def __repr__(self) -> str:
        return "Tokens(bhxh)"

    def get(self, deadline: float) -> Token:
        if not self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise unavailable("token: another check's login did not finish within insurance.timeout_s")
        try:
            token = self._token
            if token is None or time.monotonic() >= token.renew_at:
                token = self._token = self.login(deadline)
            return token
        finally:
            self._lock.release()

    def invalidate(self, token: Token) -> None:
        """Forget ``token`` (the gateway refused it) unless already replaced."""
        with self._lock:
            if self._token is token:
                self._token = None

    def login(self, deadline: float) -> Token:
        """A new token from the gateway (``Trouble`` when there is none)."""
        username = self.settings.username
        secret = password_md5(self.settings.password_file)
        status, body = self.transport.post(TOKEN_PATH, form={"username": username, "password": secret},
                                           deadline=deadline, kind="token")
        if status in (401, 403):
            raise refused(f"token: the gateway refused the login (HTTP {status}): check {LOGIN_KEYS}")
        if status != 200:
            raise http_trouble("token", status)
        now = time.monotonic()
        try:
            access, ident, expires_at = parse_token(json_object(body), now)
        except LoginRefused as exc:
            raise refused(f"token: the gateway refused the login (maKetQua {exc.code}): check {LOGIN_KEYS}") from None
        except Garbled as exc:
            raise unavailable(f"token: unusable login reply ({exc})") from None
        lifetime = expires_at - now
        margin = min(60.0, lifetime * 0.1)
        log.info("gateway token received", extra={"event": "insurance.token", "lifetime_s": round(lifetime)})
        return Token(access, ident, username, secret, expires_at, expires_at - margin)
