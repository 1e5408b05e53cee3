"""Workaround for a reference-count bug seen with PySide6 6.12.0 on Python 3.11.

Every call of a Qt method that returns nothing (``setText``, ``setVisible``…)
gives back ``None`` without taking a reference to it, so each call lowers
``None``'s reference count by one. On Python 3.11 ``None`` is an ordinary
object (it is immortal only from 3.12): after a few thousand calls its count
reaches zero and the interpreter aborts with "Fatal Python error:
none_dealloc". A board that redraws every second would die within minutes.
PySide6 6.11.3 does not have the bug (checked with the same probe).

The guard measures the leak once at start (``leak_detected``) and, only when
it is real, restores the count on a timer: whenever ``None`` has fewer
references than at start it adds the difference back. Remove it once the
project runs on Python ≥ 3.12 or a PySide6 without the bug.
"""
from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger("kiosk.board")


def leak_detected() -> bool:
    """True when void Qt calls drop references to None here."""
    if sys.version_info >= (3, 12):
        return False  # None is immortal
    from PySide6.QtCore import QObject as _Probe

    probe = _Probe()
    before = sys.getrefcount(None)
    for _ in range(50):
        probe.setObjectName("probe")
    return before - sys.getrefcount(None) >= 50


class NoneRefcountGuard(QObject):
    def __init__(self, interval_ms: int = 250, parent: QObject | None = None):
        super().__init__(parent)
        self.active = leak_detected()
        self.floor = sys.getrefcount(None)
        self.restored = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        if self.active:
            log.warning("PySide6 drops references to None on this Python (%s); guarding against the crash",
                        sys.version.split()[0])
            self._timer.start(interval_ms)

    def check(self) -> int:
        """Add back what was lost since the last check; returns how many."""
        if not self.active:
            return 0
        missing = self.floor - sys.getrefcount(None)
        if missing > 0:
            ctypes.c_ssize_t.from_address(id(None)).value += missing
            self.restored += missing
        return max(0, missing)

    def stop(self) -> None:
        self._timer.stop()


_guard: NoneRefcountGuard | None = None


def install_guard() -> NoneRefcountGuard:
    """The process's one guard (started on first use; needs a QApplication)."""
    global _guard
    if _guard is None:
        _guard = NoneRefcountGuard()
    return _guard
