"""The PIN pad in front of the admin screen, with the lockout of ``[admin]``:
a wrong PIN says how many tries are left and how long the next lockout lasts;
while locked, the keys are off and the pad shows the lockout's length and the
time left (``PinGate``: each round locks longer)."""
from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.operations.admin_pin import PIN_MAX, PinGate
from ui.admin.texts import tr


def duration_text(seconds: float, lang: str) -> str:
    """A lockout length for the pad: "45 s", "15 min", "2 h 15 min" (rounded up)."""
    s = max(0, math.ceil(seconds))
    if s < 120:
        return tr("admin.duration.seconds", lang, n=s)
    minutes = math.ceil(s / 60)
    if minutes < 120:
        return tr("admin.duration.minutes", lang, n=minutes)
    return tr("admin.duration.hours", lang, h=minutes // 60, m=minutes % 60)


class PinPage(QWidget):
    unlocked = Signal()
    cancelled = Signal()

    def __init__(self, gate: PinGate, lang: str = "vi", parent=None):
        super().__init__(parent)
        self.gate, self.lang, self.pin = gate, lang, ""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(40, 16, 40, 16)
        outer.setSpacing(12)
        self.title = QLabel(tr("admin.pin.title", lang))
        self.title.setProperty("role", "admin-title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.dots = QLabel()
        self.dots.setProperty("role", "pin-dots")
        self.dots.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel()
        self.message.setProperty("role", "message")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        outer.addWidget(self.title)
        outer.addWidget(self.dots, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addWidget(self.message)
        grid = QGridLayout()
        grid.setSpacing(12)
        self.keys: dict[str, QPushButton] = {}
        labels = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0", "ok"]
        for i, key in enumerate(labels):
            text = {"del": tr("admin.pin.delete", lang), "ok": tr("admin.pin.ok", lang)}.get(key, key)
            btn = QPushButton(text)
            btn.setProperty("kind", "key" if key.isdigit() or key == "del" else "key-ok")
            btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            btn.clicked.connect(lambda _=False, k=key: self.press(k))
            grid.addWidget(btn, i // 3, i % 3)
            self.keys[key] = btn
        keypad = QWidget()
        keypad.setLayout(grid)
        outer.addWidget(keypad, 0, Qt.AlignmentFlag.AlignHCenter)
        row = QHBoxLayout()
        self.cancel = QPushButton(tr("admin.pin.cancel", lang))
        self.cancel.setProperty("kind", "secondary")
        self.cancel.clicked.connect(lambda _=False: self._cancel())
        row.addStretch(1)
        row.addWidget(self.cancel)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._refresh_lock)
        self.reset()

    def reset(self) -> None:
        self.pin = ""
        self._show_dots()
        self.message.setText("")
        if not self.gate.pin_hash:
            self.message.setText(tr("admin.pin.no_pin", self.lang))
        self._refresh_lock()

    def press(self, key: str) -> None:
        if key == "del":
            self.pin = self.pin[:-1]
        elif key == "ok":
            self._submit()
            return
        elif len(self.pin) < PIN_MAX:
            self.pin += key
        self._show_dots()

    def _show_dots(self) -> None:
        self.dots.setText("●" * len(self.pin) or " ")

    def _submit(self) -> None:
        result = self.gate.try_pin(self.pin)
        self.pin = ""
        self._show_dots()
        if result.ok:
            self.message.setText("")
            self.unlocked.emit()
        elif result.reason == "locked":
            self._refresh_lock()
        elif result.reason == "no_pin":
            self.message.setText(tr("admin.pin.no_pin", self.lang))
        else:
            self.message.setText(tr("admin.pin.wrong_then_locked", self.lang, n=result.attempts_left,
                                    length=duration_text(self.gate.next_lockout_s(), self.lang)))

    def _refresh_lock(self) -> None:
        remaining = self.gate.locked_for()
        locked = remaining > 0
        for key, btn in self.keys.items():
            btn.setEnabled(not locked)
        if locked:
            self.message.setText(tr("admin.pin.locked_for", self.lang,
                                    length=duration_text(self.gate.current_lockout_s(), self.lang),
                                    left=duration_text(remaining, self.lang)))
            if not self._tick.isActive():
                self._tick.start()
        elif self._tick.isActive():
            self._tick.stop()
            self.message.setText("")

    def is_locked(self) -> bool:
        return self.gate.locked_for() > 0

    def _cancel(self) -> None:
        self.pin = ""
        self._show_dots()
        self.cancelled.emit()
