"""A calling board on screen: the poller thread, the voice thread and the
window, joined by queued Qt signals so widgets are only touched on the GUI
thread. The parts (rooms, poller, caller, voice) come from the composition
root (``app/compose.py``); ``run_board`` is ``kiosk board``, ``open_board``
also serves ``kiosk demo --board`` and the tests.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtWidgets import QApplication

from kiosk.clock import SystemClock
from kiosk.config.loader import Config
from kiosk.errors import KioskError
from ui.board.window import BoardWindow

log = logging.getLogger("kiosk.board")


class BoardController(QObject):
    """Owns a board's window and drives it from the board's parts."""

    updated = Signal(object, object)  # BoardSnapshot, list[Call] (emitted on the poller thread)
    action_done = Signal(str, object)  # room, CallOutcome or KioskError (emitted on a worker thread)

    def __init__(self, config: Config, parts, *, demo: bool = False, orientation: str | None = None):
        """``parts``: ``app.compose.BoardParts`` built with ``on_update=None``
        (this controller connects itself)."""
        super().__init__()
        self.config = config
        self.parts = parts
        self.rooms = parts.rooms
        self.poller = parts.poller
        self.caller = parts.caller
        self.announcer = parts.announcer
        self.poller.on_update = self.updated.emit
        self.window = BoardWindow(
            title=parts.title, hospital=config.kiosk.hospital_name, rooms=[(r.code, r.name) for r in self.rooms],
            clock=SystemClock(config.kiosk.timezone), lang=config.kiosk.language,
            show_names=config.board.names == "masked", orientation=orientation or config.board.orientation,
            demo_actions=self.request_action if demo else None)
        self.updated.connect(self._on_update, Qt.ConnectionType.QueuedConnection)
        self.action_done.connect(self._on_action_done, Qt.ConnectionType.QueuedConnection)
        self.snapshots = 0  # how many snapshots the window has drawn (tests, benchmark)
        self.outcomes: list = []

    def start(self) -> None:
        self.parts.start()

    def stop(self) -> None:
        self.parts.close()

    # --- GUI thread ---
    def _on_update(self, snapshot, calls) -> None:
        self.window.show_snapshot(snapshot)
        if calls:
            self.window.show_calls(calls)
        self.snapshots += 1

    def request_action(self, action: str, room: str) -> None:
        """A demo button: call-next / recall / start / skip, off the GUI thread."""
        self.window.set_busy(room, True)
        fn = {"call-next": self.caller.call_next, "recall": self.caller.recall, "start": self.caller.start,
              "skip": self.caller.skip}[action]

        def work():
            try:
                result = fn(room)
            except KioskError as exc:
                log.warning("board: %s in room %s failed: %s", action, room, exc)
                result = exc
            self.action_done.emit(room, result)

        threading.Thread(target=work, name=f"board-{action}", daemon=True).start()

    def _on_action_done(self, room: str, result) -> None:
        self.outcomes.append(result)
        self.window.set_busy(room, False)
        self.poller.refresh_now()


def open_board(config: Config, parts, **kwargs) -> BoardController:
    """A started board (the caller shows ``controller.window``)."""
    ctrl = BoardController(config, parts, **kwargs)
    ctrl.start()
    return ctrl


def place_beside(ctrl: BoardController, beside=None) -> None:
    """``kiosk demo --board``: a window half the screen, below ``beside``."""
    screen = QApplication.primaryScreen().availableGeometry()
    ctrl.window.resize(min(1280, screen.width() // 2), min(720, screen.height() // 2))
    if beside is not None:
        ctrl.window.move(beside.x(), min(beside.y() + beside.height() + 40, screen.bottom() - ctrl.window.height()))
    ctrl.window.show()


def grab_png(window, path: str | Path, size: tuple[int, int]) -> Path:
    """Render the board at ``size`` into a PNG (works offscreen)."""
    window.resize(QSize(*size))
    for _ in range(3):  # new font sizes → new minimum heights → one more layout pass
        QApplication.processEvents()
        if window.layout() is not None:
            window.layout().activate()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(path))
    return path


def screenshot_board(config: Config, parts, path: str | Path, size: tuple[int, int], **kwargs) -> dict:
    """``kiosk board --screenshot``: render the board once (after its first
    read of the HIS) into a PNG."""
    app = QApplication.instance() or QApplication([])
    ctrl = open_board(config, parts, **kwargs)
    try:
        deadline = time.monotonic() + 10
        while ctrl.snapshots == 0 and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        out = grab_png(ctrl.window, path, size)
    finally:
        ctrl.stop()
    return {"screenshot": str(out), "stale": bool(ctrl.poller.snapshot.stale)}


def run_board(config: Config, parts, *, demo: bool = False, windowed: bool = False,
              orientation: str | None = None) -> int:
    """``kiosk board``: the board full screen until closed."""
    app = QApplication.instance() or QApplication([])
    ctrl = open_board(config, parts, demo=demo, orientation=orientation)
    if windowed:
        ctrl.window.resize(1280, 720 if (orientation or "landscape") != "portrait" else 1280)
        ctrl.window.show()
    else:
        ctrl.window.showFullScreen()
    try:
        return app.exec()
    finally:
        ctrl.stop()
