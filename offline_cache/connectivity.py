"""The connectivity monitor: online or offline, for the check-in and the UI.

Implements ``kiosk.ports.ConnectivityMonitor`` (``mode()`` + ``subscribe``)
and the two reports the check-in handler, the sender and the probe make:
``report_unavailable(reason)`` and ``report_ok()``. Every change is logged,
written to the ``mode_changes`` table (IT sees when and why the kiosk went
offline) and exported as the ``kiosk_online`` metric. Subscribers are called
on the reporting thread: a UI must hop to its own thread (a Qt signal does).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from kiosk.operations import metrics
from kiosk.operations.logs import redact
from kiosk.ports import MODE_OFFLINE, MODE_ONLINE
from offline_cache.db import LocalDatabase

log = logging.getLogger(__name__)


class ConnectivityMonitor:
    def __init__(self, database: LocalDatabase | None = None, initial: str = MODE_ONLINE):
        self.database = database
        self._mode = initial
        self._since = time.time()
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[str], None]] = []
        # The mode last written to the log (maybe by an earlier process): a
        # process that starts optimistic and finds the HIS there still records
        # "online" after an earlier "offline".
        self._recorded = None
        if database is not None:
            rows = database.read("SELECT mode FROM mode_changes ORDER BY id DESC LIMIT 1")
            self._recorded = rows[0]["mode"] if rows else None
        metrics.ONLINE.set(1 if initial == MODE_ONLINE else 0)

    def mode(self) -> str:
        return self._mode

    def since(self) -> float:
        return self._since

    def subscribe(self, callback: Callable[[str], None]) -> None:
        with self._lock:
            self._subscribers.append(callback)
        callback(self._mode)

    def report_unavailable(self, reason: str) -> None:
        self._set(MODE_OFFLINE, reason)

    def report_ok(self, reason: str = "HIS answered") -> None:
        self._set(MODE_ONLINE, reason)

    def _set(self, mode: str, reason: str) -> None:
        reason = redact(reason)[:200]
        with self._lock:
            changed = mode != self._mode
            record = self.database is not None and mode != self._recorded
            if not changed and not record:
                return
            if changed:
                self._mode, self._since = mode, time.time()
            self._recorded = mode
            subscribers = list(self._subscribers) if changed else []
        if changed:
            metrics.ONLINE.set(1 if mode == MODE_ONLINE else 0)
            (log.warning if mode == MODE_OFFLINE else log.info)(
                f"kiosk is {mode}", extra={"event": f"connectivity.{mode}", "reason": reason})
        if record:
            try:
                with self.database.write() as conn:
                    conn.execute("INSERT INTO mode_changes(at, mode, reason) VALUES (?,?,?)",
                                 (time.time(), mode, reason))
            except Exception as exc:  # the mode still changes when the log cannot be written
                if getattr(self.database, "closed", False):  # the kiosk is stopping
                    log.info("mode change not recorded: database closed", extra={"event": "connectivity.not_recorded"})
                else:
                    log.error("mode change not recorded", exc_info=exc, extra={"event": "connectivity.record_failed"})
        for callback in subscribers:
            try:
                callback(mode)
            except Exception:
                log.exception("connectivity subscriber failed", extra={"event": "connectivity.subscriber_failed"})


def recent_mode_changes(database: LocalDatabase, limit: int = 20) -> list[dict]:
    return database.read("SELECT at, mode, reason FROM mode_changes ORDER BY id DESC LIMIT ?", (limit,))
