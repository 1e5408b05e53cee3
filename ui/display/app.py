"""Wiring of a ward board: the HIS poller thread, the voice thread and the
window, joined by queued Qt signals so widgets are only touched on the GUI
thread. ``open_board`` builds one (also used by ``kiosk demo --board``);
``run_board`` is ``kiosk display``.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtWidgets import QApplication

from kiosk.clock import SystemClock
from kiosk.config import Config
from kiosk.errors import KioskError
from kiosk.fhir.client import FhirClient
from kiosk.ward_his import RoomCaller, WardPoller, poll_client, resolve_rooms

from .board import BoardWindow

log = logging.getLogger("kiosk.board")


class BoardController(QObject):
    """Owns a board's poller, announcer and window."""

    updated = Signal(object, object)  # BoardSnapshot, list[Call] (emitted on the poller thread)
    action_done = Signal(str, object)  # room, CallOutcome or KioskError (emitted on a worker thread)

    def __init__(self, config: Config, *, department: str = "", rooms: list[str] | tuple = (),
                 demo: bool = False, client: FhirClient | None = None, clock=None, announcer=None,
                 orientation: str | None = None):
        super().__init__()
        self.config = config
        self.client = client or FhirClient(config.his)
        self.clock = clock or SystemClock(config.kiosk.timezone)
        title, room_list = resolve_rooms(config, department=department or config.display.department,
                                         rooms=rooms or config.display.rooms, client=self.client)
        self.rooms = room_list
        self.announcer = announcer
        self.poller = WardPoller(config, room_list, client=poll_client(config), clock=self.clock,
                                 on_update=self.updated.emit, announcer=announcer)
        self.caller = RoomCaller(config, room_list, client=self.client, clock=self.clock)
        self.window = BoardWindow(
            title=title, hospital=config.kiosk.hospital_name, rooms=[(r.code, r.name) for r in room_list],
            clock=self.clock, lang=config.kiosk.language, show_names=config.display.names == "masked",
            orientation=orientation or config.display.orientation,
            demo_actions=self.request_action if demo else None)
        self.updated.connect(self._on_update, Qt.ConnectionType.QueuedConnection)
        self.action_done.connect(self._on_action_done, Qt.ConnectionType.QueuedConnection)
        self.snapshots = 0  # how many snapshots the window has drawn (tests, benchmark)
        self.outcomes: list = []

    def start(self) -> None:
        if self.announcer is not None:
            self.announcer.start()
        self.poller.start()

    def stop(self) -> None:
        self.poller.stop()
        if self.announcer is not None:
            self.announcer.stop()
        self.client.close()
        self.poller.client.close()

    # --- GUI thread ---
    def _on_update(self, snapshot, calls) -> None:
        self.window.show_snapshot(snapshot)
        if calls:
            self.window.show_calls(calls)
        self.snapshots += 1

    def request_action(self, action: str, room: str) -> None:
        """A demo button: call-next / recall / skip, off the GUI thread."""
        self.window.set_busy(room, True)
        fn = {"call-next": self.caller.call_next, "recall": self.caller.recall, "skip": self.caller.skip}[action]

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


def open_board(config: Config, **kwargs) -> BoardController:
    """A started board (the caller shows ``controller.window``)."""
    ctrl = BoardController(config, **kwargs)
    ctrl.start()
    return ctrl


def open_demo_board(config: Config, department: str = "", beside=None) -> BoardController:
    """``kiosk demo --board``: a windowed board with demo buttons, for one
    department or (default) every clinic room, placed right of ``beside``."""
    from devices.voice import build_announcer
    from kiosk.fhir.his import FhirHis

    rooms = () if department else [r.code for d in FhirHis(config).list_departments() for r in d.rooms]
    ctrl = open_board(config, department=department, rooms=rooms, demo=True, announcer=build_announcer(config),
                      orientation="landscape")
    screen = QApplication.primaryScreen().availableGeometry()
    ctrl.window.resize(min(1280, screen.width() // 2), min(720, screen.height() // 2))
    if beside is not None:
        ctrl.window.move(beside.x(), min(beside.y() + beside.height() + 40, screen.bottom() - ctrl.window.height()))
    ctrl.window.show()
    return ctrl


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


def screenshot_board(config: Config, path: str | Path, size: tuple[int, int], **kwargs) -> dict:
    """``kiosk display --screenshot``: render the board once (after its first
    read of the HIS) into a PNG."""
    import time

    app = QApplication.instance() or QApplication([])
    ctrl = open_board(config, **kwargs)
    try:
        deadline = time.monotonic() + 10
        while ctrl.snapshots == 0 and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        out = grab_png(ctrl.window, path, size)
    finally:
        ctrl.stop()
    return {"screenshot": str(out), "stale": bool(ctrl.poller.snapshot.stale)}


def run_board(config: Config, *, department: str = "", rooms=(), demo: bool = False, windowed: bool = False,
              orientation: str | None = None, announcer=None) -> int:
    """``kiosk display``: the board full screen until closed."""
    app = QApplication.instance() or QApplication([])
    ctrl = open_board(config, department=department, rooms=rooms, demo=demo,
                      announcer=announcer, orientation=orientation)
    if windowed:
        ctrl.window.resize(1280, 720 if (orientation or "landscape") != "portrait" else 1280)
        ctrl.window.show()
    else:
        ctrl.window.showFullScreen()
    try:
        return app.exec()
    finally:
        ctrl.stop()
