"""`kiosk demo` as a newcomer sees it on a 1920×1080 screen (issue 24): the
kiosk preview, the operator panel with its ticket preview and, with
`--board`, the calling board all fit the screen in both orientations without
covering one another; every board button shows its whole label; every panel
button the README names is on the panel (the appointment QR among them)."""
from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import pytest
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QLabel, QPushButton

from app.cli.ui_cmd import TITLE_BAR, demo_geometry
from app.demo_controls import SimulatorControls
from kiosk.demo_data import demo_person
from ui.app import LANDSCAPE, PORTRAIT

ROOT = Path(__file__).resolve().parents[2]
SCREEN = (0, 0, 1920, 1080)
pytestmark = pytest.mark.integration


def _inside(rect, screen=SCREEN) -> bool:
    x, y, w, h = rect
    sx, sy, sw, sh = screen
    return x >= sx and y - TITLE_BAR >= sy and x + w <= sx + sw and y + h <= sy + sh


def _overlap(a, b) -> bool:
    """Two windows (each with its title bar above) share a pixel."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ay, ah, by, bh = ay - TITLE_BAR, ah + TITLE_BAR, by - TITLE_BAR, bh + TITLE_BAR
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


@pytest.mark.parametrize("size", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
@pytest.mark.parametrize("board", [False, True], ids=["alone", "board"])
def test_demo_geometry_fits_1920x1080_without_overlap(size, board):
    places = demo_geometry(SCREEN, size, board=board)
    assert set(places) == {"kiosk", "panel", *(["board"] if board else [])}
    for name, rect in places.items():
        assert _inside(rect), (name, rect)
    for (a, ra), (b, rb) in combinations(places.items(), 2):
        assert not _overlap(ra, rb), (a, ra, b, rb)
    kx, ky, kw, kh = places["kiosk"]
    assert abs(kw / kh - size[0] / size[1]) < 0.01  # a scaled preview, not a squeezed one
    assert places["panel"][2] >= 700 and places["panel"][3] >= 440  # people, devices and ticket preview
    if board:
        assert places["board"][2] >= 900 and places["board"][3] >= 560


@pytest.fixture
def demo_windows(qtbot, kiosk_config, sandbox):
    """The demo's three windows on the sandbox HIS (simulated devices)."""
    from app.compose import build_board, build_kiosk, build_printer
    from app.sandbox import GatewaySimulator
    from devices.camera.simulator import SimulatedScanner
    from devices.card.simulator import SimulatedCardReader
    from ui.app import make_kiosk
    from ui.board import open_board
    from ui.operator_panel import OperatorPanel

    services = build_kiosk(kiosk_config, with_devices=False, background=False)
    services.printer = build_printer(kiosk_config)  # the demo's simulators, as `kiosk demo` has them
    services.card_reader = SimulatedCardReader(read_time_s=0.2)
    services.scanner = SimulatedScanner(repeat_after_s=1.0)
    controller, window = make_kiosk(services, kiosk_config)
    gateway = GatewaySimulator(port=0).start()
    controls = SimulatorControls(services, sandbox, gateway)
    panel = OperatorPanel(controller, controls)
    board = open_board(kiosk_config, build_board(kiosk_config, every_room=True), demo=True,
                       orientation="landscape")
    for w in (window, panel, board.window):
        qtbot.addWidget(w)
    try:
        yield {"kiosk": window, "panel": panel, "board": board.window, "controls": controls}
    finally:
        board.stop()
        controller.stop()
        services.close()
        gateway.stop()


@pytest.mark.parametrize("size", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_demo_windows_keep_their_places_and_board_labels_show(demo_windows, size):
    """The windows take the places given (no minimum size pushes one over
    another) and each board button's label fits inside the button."""
    places = demo_geometry(SCREEN, size, board=True)
    for name, rect in places.items():
        demo_windows[name].setGeometry(*rect)
        demo_windows[name].show()
    for _ in range(5):
        QApplication.processEvents()
    actual = {}
    for name, rect in places.items():
        g = demo_windows[name].geometry()
        actual[name] = (g.x(), g.y(), g.width(), g.height())
        assert actual[name][2:] == rect[2:], name  # no minimum size made it larger
        assert abs(g.x() - rect[0]) <= 4 and abs(g.y() - rect[1]) <= 4, name  # a platform's frame margin
    for (a, ra), (b, rb) in combinations(actual.items(), 2):
        assert not _overlap(ra, rb), (a, ra, b, rb)
    buttons = demo_windows["board"].findChildren(QPushButton)
    assert buttons
    for room in demo_windows["board"].panels.values():  # inside its room, none over another
        rects = [b.geometry() for b in room.buttons.values()]
        for r in rects:
            assert room.rect().contains(r), (room.code, r, room.rect())
        for a, b in combinations(rects, 2):
            assert not a.intersects(b), (room.code, a, b)
    for label in demo_windows["panel"].findChildren(QLabel):  # every sample person's line whole
        if label.wordWrap() and label.text():
            assert label.heightForWidth(label.width()) <= label.height(), label.text()
    for b in buttons:
        text = b.text()
        assert text.strip() and b.isVisible(), b.objectName()
        fm = QFontMetrics(b.font())
        assert fm.horizontalAdvance(text) <= b.contentsRect().width() - 8, (b.objectName(), text, b.width())
        assert fm.height() <= b.contentsRect().height(), (b.objectName(), text, b.height())


def _readme_panel_buttons() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("The operator panel's buttons:"))
    return re.findall(r"`([^`]+)`", line)


def test_every_panel_button_the_readme_names_is_on_the_panel(demo_windows):
    named = _readme_panel_buttons()
    assert "Appointment QR" in named and len(named) >= 10
    texts = [b.text() for b in demo_windows["panel"].findChildren(QPushButton)]
    for label in named:
        if label.endswith("…"):
            assert any(t.startswith(label[:-1]) for t in texts), label
        else:
            assert label in texts, (label, texts)


def test_appointment_qr_button_shows_a_booking_the_his_knows(demo_windows, kiosk_config, monkeypatch):
    from fhir_his.his import FhirHis

    shown = []
    controls = demo_windows["controls"]
    monkeypatch.setattr(controls, "show_qr", lambda text, seconds=1.0: shown.append(text))
    buttons = [b for b in demo_windows["panel"].findChildren(QPushButton) if b.text() == "Appointment QR"]
    assert len(buttons) == 3  # the booked demo people (assets/demo/hospital.json)
    buttons[0].click()
    assert len(shown) == 1 and shown[0].startswith("LH")
    found = FhirHis(kiosk_config).find_booking(shown[0])
    assert found is not None
    patient, appointment = found
    assert patient.citizen_id == demo_person("an")["citizen_id"] and appointment is not None
