"""The board window (pytest-qt, offscreen) against the real sandbox HIS:
check-in → number appears; call-next → board and voice queue update; HIS down
→ banner; screenshots in both orientations for the docs."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from app.compose import build_board
from devices.voice import SimulatedAnnouncer
from kiosk.domain import Priority
from tests.board.conftest import Reception, board_config
from tests.helpers import docs_images
from ui.board import BoardController, grab_png

ROOT = Path(__file__).resolve().parents[2]
DOCS = docs_images()
pytestmark = pytest.mark.integration


@pytest.fixture
def make_board(qtbot):
    made = []

    def make(config, *, rooms=(), department="", announcer=None, **kw):
        announcer = announcer or SimulatedAnnouncer(repeat=config.board.repeat, seconds_per_saying=0.02)
        parts = build_board(config, rooms=rooms, department=department, announcer=announcer)
        ctrl = BoardController(config, parts, **kw)
        qtbot.addWidget(ctrl.window)
        ctrl.window.resize(1280, 720)
        ctrl.window.show()
        ctrl.start()
        made.append(ctrl)
        return ctrl

    yield make
    for ctrl in made:
        ctrl.stop()


def test_checkin_appears_and_demo_button_calls_next(fresh_sandbox, make_board, qtbot, tmp_path):
    cfg = board_config(fresh_sandbox.base_url, tmp_path)
    ctrl = make_board(cfg, rooms=["P201"], demo=True)
    panel = ctrl.window.panels["P201"]
    qtbot.waitUntil(lambda: ctrl.snapshots > 0, timeout=10_000)
    assert panel.serving.text() == "—"

    desk = Reception(cfg)
    label = desk.walk_in("NGOAI").ticket.label
    qtbot.waitUntil(lambda: label in panel.next_numbers.text(), timeout=10_000)

    qtbot.mouseClick(panel.buttons["call-next"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.serving.text() == label, timeout=10_000)
    qtbot.waitUntil(lambda: len(ctrl.announcer.history) == 1, timeout=10_000)
    assert ctrl.announcer.history[0].announcement.label == label
    assert ctrl.announcer.history[0].times == 1 + cfg.board.repeat
    assert panel.flash_left > 0  # the called number flashes
    assert ctrl.window.ticker.text() == f"Mời số {label} vào Phòng khám Ngoại"
    assert panel.serving_name.text() == "" or "*" in panel.serving_name.text()  # masked, never the full name

    # recall from the board: the same number again, after the first call
    qtbot.mouseClick(panel.buttons["recall"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(ctrl.announcer.history) == 2, timeout=10_000)
    assert [c.announcement.label for c in ctrl.announcer.history] == [label, label]
    first, second = ctrl.announcer.history
    assert second.started_at >= first.finished_at


def test_calls_from_elsewhere_are_announced_in_order_without_overlap(fresh_sandbox, make_board, qtbot, tmp_path):
    cfg = board_config(fresh_sandbox.base_url, tmp_path, repeat=2)
    ctrl = make_board(cfg, department="NOI",
                      announcer=SimulatedAnnouncer(repeat=2, seconds_per_saying=0.15))
    qtbot.waitUntil(lambda: ctrl.snapshots > 0, timeout=10_000)
    desk = Reception(cfg)
    a = desk.walk_in_room("NOI", "P101").ticket.label
    b = desk.walk_in_room("NOI", "P102").ticket.label
    qtbot.waitUntil(lambda: ctrl.poller.snapshot.room("P102").waiting_total == 1, timeout=10_000)
    # both rooms call within the same poll interval (as two doctors would)
    ctrl.caller.call_next("P101")
    ctrl.caller.call_next("P102")
    qtbot.waitUntil(lambda: ctrl.window.panels["P102"].serving.text() == b, timeout=10_000)
    assert ctrl.window.panels["P101"].serving.text() == a
    qtbot.waitUntil(lambda: len(ctrl.announcer.history) == 2, timeout=10_000)
    calls = ctrl.announcer.history
    assert sorted(c.announcement.label for c in calls) == sorted([a, b])
    assert calls[1].started_at >= calls[0].finished_at  # the second waited for the first (3 sayings)
    assert calls[0].finished_at - calls[0].started_at >= 0.45 - 0.01


def test_his_down_shows_banner_and_recovers(fresh_sandbox, make_board, qtbot, tmp_path):
    cfg = board_config(fresh_sandbox.base_url, tmp_path)
    ctrl = make_board(cfg, rooms=["P201"])
    label = Reception(cfg).walk_in("NGOAI").ticket.label
    panel = ctrl.window.panels["P201"]
    qtbot.waitUntil(lambda: label in panel.next_numbers.text(), timeout=10_000)
    assert ctrl.window.stale.isHidden()

    fresh_sandbox.set_faults(fail_status=503, fail_count=100_000)
    qtbot.waitUntil(lambda: not ctrl.window.stale.isHidden(), timeout=15_000)
    since = ctrl.poller.snapshot.updated_at.strftime("%H:%M")
    assert ctrl.window.stale.text().startswith(f"Chưa cập nhật từ {since}")
    assert label in panel.next_numbers.text()  # last known state stays on screen

    fresh_sandbox.set_faults(fail_status=0, fail_count=0)
    qtbot.waitUntil(lambda: ctrl.window.stale.isHidden(), timeout=15_000)
    assert label in panel.next_numbers.text()


def test_names_hidden_by_config(fresh_sandbox, make_board, qtbot, tmp_path):
    cfg = board_config(fresh_sandbox.base_url, tmp_path, names="hidden")
    ctrl = make_board(cfg, rooms=["P201"])
    desk = Reception(cfg)
    label = desk.walk_in("NGOAI").ticket.label
    ctrl.caller.call_next("P201")
    panel = ctrl.window.panels["P201"]
    qtbot.waitUntil(lambda: panel.serving.text() == label, timeout=10_000)
    assert panel.serving_name.text() == "" and panel.serving_name.isHidden()


def _assert_real_picture(path: Path, size):
    img = QImage(str(path))
    assert (img.width(), img.height()) == size
    colours = {img.pixel(x, y) for x in range(0, img.width(), 37) for y in range(0, img.height(), 37)}
    assert len(colours) > 5


def test_screenshots_both_orientations(fresh_sandbox, make_board, qtbot, tmp_path):
    """Writes board-landscape.png and board-portrait.png (README pictures with `make screenshots`)."""
    cfg = board_config(fresh_sandbox.base_url, tmp_path)
    ctrl = make_board(cfg, department="NOI")
    desk = Reception(cfg)
    for i in range(7):
        desk.walk_in("NOI")
        if i == 3:
            desk.walk_in("NOI", priority=Priority.PREGNANT)
    desk.walk_in("NOI", person_key="linh")
    last = {}
    for room in ("P101", "P102", "P101", "P102", "P101"):
        last[room] = ctrl.caller.call_next(room).label
    panels = ctrl.window.panels
    qtbot.waitUntil(lambda: all(panels[r].serving.text() == label for r, label in last.items()), timeout=15_000)
    assert panels["P101"].recent.text().startswith("ĐÃ GỌI: ")
    # freeze the flash: the last call (room P101) highlighted, the other room normal
    ctrl.window._clock_timer.stop()
    for code, panel in ctrl.window.panels.items():
        panel.flash_left = 0
        panel.tick_flash()
    ctrl.window.panels["P101"].flash()

    # readable from 5 m: on a 43" 1080p screen (53.5 cm tall) 1 px ≈ 0.05 cm; the served
    # number's font is ≥ 160 px (≈ 8 cm, cap height ≈ 6 cm; 5 m needs ≈ 2.5 cm)
    land = grab_png(ctrl.window, DOCS / "board-landscape.png", (1920, 1080))
    assert ctrl.window.current_orientation() == "landscape" and ctrl.window.cols == 2
    assert panels["P101"].serving.font().pixelSize() >= 160
    assert panels["P101"].next_numbers.font().pixelSize() >= 60
    port = grab_png(ctrl.window, DOCS / "board-portrait.png", (1080, 1920))
    assert ctrl.window.current_orientation() == "portrait" and ctrl.window.cols == 1
    assert panels["P101"].serving.font().pixelSize() >= 160
    _assert_real_picture(land, (1920, 1080))
    _assert_real_picture(port, (1080, 1920))


def test_long_running_board_does_not_exhaust_none_refcount(qtbot):
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on every void
    Qt call, and a board redrawn 20 000 times then aborts the interpreter
    (none_dealloc). constraints.txt pins a PySide6 without the bug; this test
    catches a return of it."""
    import sys
    from datetime import datetime, timedelta, timezone

    from kiosk.board.model import BoardSnapshot, RoomView, ShownNumber
    from ui.board import BoardWindow
    clock = type("C", (), {"now": staticmethod(lambda: datetime(2026, 3, 2, 8, tzinfo=timezone(timedelta(hours=7))))})
    window = BoardWindow(title="T", hospital="H", rooms=[("P1", "Phòng 1")], clock=clock)
    qtbot.addWidget(window)
    start = sys.getrefcount(None)
    lowest = start
    for i in range(20_000):
        view = RoomView("P1", "Phòng 1", ShownNumber(str(i), f"{i % 1000:03d}"), (ShownNumber("w", f"{i + 1:03d}"),),
                        1 + i % 3, ())
        window.show_snapshot(BoardSnapshot((view,), None, stale=bool(i % 2)))
        if i % 100 == 0:
            lowest = min(lowest, sys.getrefcount(None))
    if sys.version_info < (3, 12):  # from 3.12 None is immortal
        assert lowest > start - 500, "Qt calls are leaking references to None (PySide6 6.12.0 bug?)"
    assert window.panels["P1"].serving.text() == f"{19_999 % 1000:03d}"


def test_demo_board_shows_numbers_printed_at_the_kiosk(fresh_sandbox, qtbot, tmp_path):
    """`kiosk demo --board`: every clinic room on one board; a check-in at the
    kiosk shows up in its room."""
    from app.cli import build_parser
    from ui.board import open_board

    args = build_parser().parse_args(["demo", "--board"])
    assert args.board == ""
    assert build_parser().parse_args(["demo", "--board", "NOI"]).board == "NOI"

    cfg = board_config(fresh_sandbox.base_url, tmp_path)
    ctrl = open_board(cfg, build_board(cfg, department=args.board, every_room=True), demo=True,
                      orientation="landscape")
    qtbot.addWidget(ctrl.window)
    try:
        from fhir_his.his import FhirHis

        every_room = {r.code for d in FhirHis(cfg).list_departments() for r in d.rooms}
        assert set(ctrl.window.panels) == every_room and len(every_room) >= 8
        assert all(p.buttons for p in ctrl.window.panels.values())
        ticket = Reception(cfg).walk_in("TMH").ticket
        panel = ctrl.window.panels[ticket.room_code]
        qtbot.waitUntil(lambda: ticket.label in panel.next_numbers.text(), timeout=10_000)
        grab_png(ctrl.window, tmp_path / "demo-board.png", (1280, 720))
        assert ctrl.window.cols == 4 and ctrl.window.rows == 3
    finally:
        ctrl.stop()


def test_cli_board_screenshot_and_announce(fresh_sandbox, tmp_path):
    """`kiosk board --screenshot` (the real command, offscreen; `kiosk display` is its old name) and
    `kiosk announce` (chime + espeak-ng WAV) as an IT technician runs them."""
    import json
    import os
    import subprocess
    import sys
    import wave

    cfg_file = tmp_path / "kiosk.toml"
    cfg_file.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[his]\nbase_url = "{fresh_sandbox.base_url}"\n'
                        '[display]\nrooms = ["P201"]\nvoice_driver = "espeak"\naudio_player = "none"\n',
                        encoding="utf-8")
    label = Reception(board_config(fresh_sandbox.base_url)).walk_in("NGOAI").ticket.label
    log_file = tmp_path / "kiosk.log"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK_LOG_FILE": str(log_file)}
    png = tmp_path / "board.png"
    out = subprocess.run([sys.executable, "-m", "app", "board", "--config", str(cfg_file), "--screenshot",
                          str(png), "--size", "1280x720"], capture_output=True, text=True, timeout=90,
                         cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"screenshot": str(png), "stale": False}
    _assert_real_picture(png, (1280, 720))

    wav = tmp_path / "call.wav"
    out = subprocess.run([sys.executable, "-m", "app", "announce", "--config", str(cfg_file), "--label", label,
                          "--room-name", "Phòng khám số 5", "--out", str(wav)],
                         capture_output=True, text=True, timeout=90, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["text"] == f"Mời số {label} vào phòng khám số 5" and result["times"] == 2
    # no audio here: said once, in the command's log file (stderr carries errors only)
    assert result["played_with"] is None and "not played" in log_file.read_text(encoding="utf-8")
    with wave.open(str(wav)) as w:
        assert w.getnframes() / w.getframerate() > 4.0  # chime + the sentence twice
