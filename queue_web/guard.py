"""The outermost layer of the queue service, around every request:

- a per-client rate limit (token bucket: ``queue_web.requests_per_minute``,
  refilled continuously; a refused request gets 429 with Retry-After and a
  plain page);
- security headers (a strict Content-Security-Policy: scripts and styles from
  this server only; no referrer, so a ticket link never leaks to another site;
  no framing; no sniffing);
- the access log: method, path with any ticket token replaced by "…", status
  and duration — no client address, no token, no query string;
- errors: whatever escapes a handler is logged here once (redacted, tokens
  removed) and the client gets the plain 500 page — never a stack trace.

The client address is the peer, or the ``X-Forwarded-For`` client that
uvicorn accepted from a trusted proxy (``queue_web.trusted_proxies``).
"""
from __future__ import annotations

import logging
import re
import threading
import time
import traceback
from typing import Callable

log = logging.getLogger("queue_web")
access = logging.getLogger("queue_web.access")

_TOKEN_RE = re.compile(r"/t/[^/?#\s\"']+")
MAX_CLIENTS = 100_000

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


def scrub(text: str) -> str:
    """Ticket tokens out of a path, a message or a traceback."""
    return _TOKEN_RE.sub("/t/…", text)


def client_of(scope) -> str:
    client = scope.get("client")
    return client[0] if client else "-"


class RateLimiter:
    """A token bucket per client address (thread-safe)."""

    def __init__(self, per_minute: int):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def allow(self, client: str, now: float | None = None) -> float:
        """0 when the request may go on, else the seconds until it could."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                self.refused += 1
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > MAX_CLIENTS:  # forget clients whose bucket is full again
                full_after = self.capacity / self.rate
                self._buckets = {c: b for c, b in self._buckets.items() if now - b[1] < full_after}
            return wait


class Guard:
    """ASGI middleware: rate limit, headers, access log, last-resort errors."""

    def __init__(self, app, limiter: RateLimiter, *, page: Callable[[str, int], bytes]):
        self.app = app
        self.limiter = limiter
        self.page = page  # (kind, status) -> HTML bytes of a plain page

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scrub(scope.get("path", ""))
        state = {"status": 0}

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        try:
            wait = self.limiter.allow(client_of(scope))
            if wait > 0:
                await self._plain(send_with_headers, "too_many_requests", 429,
                                  [(b"retry-after", str(max(1, round(wait))).encode())])
                return
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            log.error("queue server: %s on %s %s", type(exc).__name__, scope.get("method"), path,
                      extra={"event": "queue_web.error", "error": type(exc).__name__,
                             "detail": scrub(traceback.format_exc())})
            if state["status"] == 0:
                await self._plain(send_with_headers, "error", 500)
        finally:
            access.info("%s %s %s", scope.get("method"), path, state["status"] or "-",
                        extra={"event": "queue_web.access", "status": state["status"],
                               "duration_ms": round((time.perf_counter() - started) * 1000, 1)})

    async def _plain(self, send, kind: str, status: int, headers: list | None = None) -> None:
        body = self.page(kind, status)
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"), *(headers or [])]})
        await send({"type": "http.response.body", "body": body})
