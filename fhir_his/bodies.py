"""HIS answer bodies, read bounded: at most ``his.max_answer_bytes``, complete
within ``his.request_deadline_s`` (``kiosk.operations.bounded_read``), else
``AnswerRefused`` — "the HIS is not answering properly" — and the connection
is closed. Requests are sent with ``stream=True`` so that nothing is read
before this."""
from __future__ import annotations

import logging
import socket
import time

import requests

from kiosk.config.loader import HisSection
from kiosk.errors import HisBadReply
from kiosk.operations.bounded_read import (
    CHUNK_BYTES,
    AnswerTooLarge,
    AnswerTooSlow,
    Watchdog,
    check_declared,
    read_capped,
)

log = logging.getLogger(__name__)


class AnswerRefused(HisBadReply):
    """An answer larger than ``his.max_answer_bytes`` or slower than
    ``his.request_deadline_s``: not asked for again."""


def shut(r: requests.Response) -> None:
    """Shut the socket ``r``'s body is read from: a read blocked on it returns at once."""
    conn = getattr(r.raw, "connection", None) or getattr(r.raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def read_body(r: requests.Response, his: HisSection, what: str) -> bytes:
    """The whole body of ``r`` or ``AnswerRefused``; ``r`` is closed either way
    (its connection goes back to the pool only when the body was read whole)."""
    cap = his.max_answer_bytes
    try:
        check_declared(r.headers.get("Content-Length"), cap)
        deadline = time.monotonic() + his.request_deadline_s
        with Watchdog(deadline, lambda: shut(r)) as dog:
            return read_capped(r.iter_content(CHUNK_BYTES), max_bytes=cap, deadline=deadline, watchdog=dog)
    except AnswerTooLarge:
        _refused(what, "too_large")
        raise AnswerRefused(f"{what}: the HIS is not answering properly (answer larger than "
                            f"his.max_answer_bytes = {cap:,})") from None
    except AnswerTooSlow:
        _refused(what, "too_slow")
        raise AnswerRefused(f"{what}: the HIS is not answering properly (answer not complete within "
                            f"his.request_deadline_s = {his.request_deadline_s:g} s)") from None
    finally:
        r.close()


def _refused(what: str, reason: str) -> None:
    log.warning("HIS answer refused", extra={"event": "his.answer_refused", "reason": reason, "what": what})
