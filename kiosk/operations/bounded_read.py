"""Reading what another party sends, bounded in size and in time.

``requests``' read timeout is per socket read: a body that trickles one byte
at a time, or a chunked answer that never ends, is never cut by it, and a
body read whole with ``.content`` may be any size. The adapters (the HIS, the
BHXH gateway) therefore stream every body through ``read_capped``:

- at most ``max_bytes``: ``AnswerTooLarge`` as soon as more arrives, without
  keeping the rest (nor reading it);
- done by ``deadline`` (``time.monotonic()``): a ``Watchdog`` calls the
  adapter's ``abort`` (which shuts the connection's socket) when the deadline
  passes, so a read blocked inside the HTTP library returns at once; the
  reader then raises ``AnswerTooSlow``.

No HTTP library here: the adapter passes the chunks and how to abort.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

CHUNK_BYTES = 64 * 1024


class AnswerTooLarge(Exception):
    """More than the allowed bytes arrived (or were announced)."""

    def __init__(self, limit: int):
        super().__init__(f"answer larger than {limit:,} bytes")
        self.limit = limit


class AnswerTooSlow(Exception):
    """The answer was not complete by its deadline."""

    def __init__(self):
        super().__init__("answer not complete by its deadline")


class Watchdog:
    """Calls ``abort()`` once when ``deadline`` (monotonic) passes, unless
    stopped first (``with Watchdog(...) as dog:`` stops it on leaving).
    ``fired`` tells afterwards whether it did."""

    def __init__(self, deadline: float, abort: Callable[[], object]):
        self._abort = abort
        self._lock = threading.Lock()
        self._done = False
        self.fired = False
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.name = "answer-deadline"

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = self.fired = True
        try:
            self._abort()
        except Exception:  # noqa: BLE001 - aborting a connection that is already gone
            pass


def check_declared(length: str | None, max_bytes: int) -> None:
    """Refuse at once an answer whose ``Content-Length`` is over the cap."""
    if length and length.strip().isdigit() and int(length) > max_bytes:
        raise AnswerTooLarge(max_bytes)


def read_capped(chunks: Iterable[bytes], *, max_bytes: int, deadline: float,
                watchdog: Watchdog | None = None) -> bytes:
    """The whole body from ``chunks``, or ``AnswerTooLarge`` / ``AnswerTooSlow``.
    An error of the chunk source after the watchdog fired is ``AnswerTooSlow``
    (the connection was shut because time was up)."""
    body = bytearray()
    try:
        for chunk in chunks:
            if len(body) + len(chunk) > max_bytes:
                raise AnswerTooLarge(max_bytes)
            body += chunk
            if time.monotonic() > deadline or (watchdog is not None and watchdog.fired):
                raise AnswerTooSlow()
    except (AnswerTooLarge, AnswerTooSlow):
        raise
    except Exception:
        if watchdog is not None and watchdog.fired:
            raise AnswerTooSlow() from None
        raise
    if watchdog is not None and watchdog.fired:
        raise AnswerTooSlow()  # the socket was shut: what came may be only part of the answer
    return bytes(body)
