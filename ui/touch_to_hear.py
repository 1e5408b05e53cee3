"""Touch and hold to hear a button without choosing it (ADA 2010 §707.3:
every control can be identified by sound without activating it).

While spoken guidance is on, a finger held on a button for ``HOLD_MS`` makes
the kiosk say the button's name; lifting the finger then does not press it.
A short touch presses the button as always, so nothing changes for a patient
who does not use speech. The spoken introduction tells the patient about it
(``speech.intro`` in ``kiosk/journey/spoken.py``).
"""
from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QPushButton, QWidget

HOLD_MS = 700
_NOT_SPOKEN = re.compile(r"[^\w\s.,:;!?()/%+-]")  # arrows, ticks, emoji: not words to say


def spoken_name(button: QPushButton) -> str:
    """What the button is called, as it is said: its accessible name, else its text
    without symbols."""
    text = button.accessibleName() or button.text()
    return " ".join(_NOT_SPOKEN.sub(" ", text).split())


class TouchToHear(QObject):
    """An application event filter for the kiosk window's buttons. ``is_on()``
    tells whether spoken guidance is on; ``say(text)`` speaks a button's name."""

    def __init__(self, window: QWidget, is_on, say, hold_ms: int = HOLD_MS):
        super().__init__(window)
        self.window, self.is_on, self.say = window, is_on, say
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(hold_ms)
        self.timer.timeout.connect(self._identify)
        self._button: QPushButton | None = None
        self._held = False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            self._forget()
            if isinstance(obj, QPushButton) and obj.isEnabled() and obj.window() is self.window and self.is_on():
                self._button = obj
                self.timer.start()
        elif obj is self._button and kind in (QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease):
            if kind == QEvent.Type.MouseButtonRelease:
                held = self._held
                self._forget()
                return held  # identified, not chosen: the release never reaches the button
            return self._held  # a finger sliding while held must not press it down again
        return False

    def _identify(self) -> None:
        button = self._button
        if button is None or not button.isDown():
            self._forget()
            return
        self._held = True
        button.setDown(False)
        name = spoken_name(button)
        if name:
            self.say(name)

    def _forget(self) -> None:
        self.timer.stop()
        self._button, self._held = None, False
