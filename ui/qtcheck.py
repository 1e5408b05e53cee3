"""Refuse to start on a Qt binding that corrupts Python reference counts.

PySide6 6.12.0 on Python 3.11 returns ``None`` from every void method and
``True`` from ``Signal.emit()`` without taking a reference (fine on Python
≥ 3.12, where those objects are immortal). Each call then lowers their
reference count; a kiosk or calling board running all day would abort with
"Fatal Python error: none_dealloc" after some hours. 6.11.3 is correct.
Better to say so at start than to crash in front of a patient.
"""
from __future__ import annotations

import sys

from kiosk.errors import KioskError

PROBE_CALLS = 64


class BrokenQtBinding(KioskError):
    patient_message_key = "error.out_of_service"


def refcount_drift() -> dict[str, int]:
    """How many references to None and True are lost over PROBE_CALLS calls
    (0 on a correct binding). Needs a QApplication."""
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QLabel

    class _Probe(QObject):
        ping = Signal()

    label, probe = QLabel(), _Probe()
    before_none, before_true = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(PROBE_CALLS):
        label.setText("probe")
    lost_none = before_none - sys.getrefcount(None)
    for _ in range(PROBE_CALLS):
        probe.ping.emit()
    lost_true = before_true - sys.getrefcount(True)
    return {"None": lost_none, "True": lost_true}


def check_qt_binding() -> None:
    drift = refcount_drift()
    if any(lost >= PROBE_CALLS for lost in drift.values()):
        import PySide6

        raise BrokenQtBinding(
            f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} loses references to "
            f"{', '.join(k for k, v in drift.items() if v >= PROBE_CALLS)} on every call and would crash "
            "the kiosk after some hours; install PySide6-Essentials==6.11.3 and shiboken6==6.11.3 "
            "(see constraints.txt) or use Python 3.12+")
