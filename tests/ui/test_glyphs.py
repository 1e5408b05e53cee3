"""Every Vietnamese letter renders whole on the kiosk window, and every control is
in reach (tests/ui/reach.py, checked with the demo hospital's texts): the scripted tour
(ui/tour.py) walks every screen in both orientations and both languages, and at
each screen the check runs in all four text modes (normal and large text, speech
off and on) with the hardest content put in: a long hospital name, names whose
capitals carry two marks, long department names. Each label's and button's ink
is compared with the same text drawn unconstrained (tests/ui/glyphs.py)."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from app.demo_controls import SimulatorControls
from kiosk.journey import machine as j
from tests.helpers import make_config
from tests.ui.glyphs import clipped_texts
from tests.ui.reach import out_of_reach
from ui.app import LANDSCAPE, PORTRAIT
from ui.tour import Tour

HOSPITAL = "BỆNH VIỆN ĐA KHOA TRUNG ƯƠNG TỈNH BẮC NINH – THỪA THIÊN HUẾ"
HARD_NAME = "NGUYỄN TRẦN BẮC ẲNG ỈNH ỖNG ẶNG ỰC ỮA ỸN"
HARD_DEPARTMENT = "Khoa Phẫu thuật Chấn thương Chỉnh hình Ẳ Ỗ Ữ"
MODES = [(False, False), (True, False), (False, True), (True, True)]  # (large text, speech)
SCENARIOS = ("chip", "qr", "typed", "walk_in", "large", "voice")
SAME_SCREEN = ("_large", "_voice", "_qr")  # a shot of a screen already checked in every mode


@pytest.fixture
def sandbox(fresh_sandbox):
    return fresh_sandbox


@pytest.fixture
def kiosk_config(sandbox, tmp_path):
    # the tour checks the same demo people in again and again: each a visit of its own (test_journey_repeat.py)
    return make_config(sandbox.base_url, kiosk={"data_dir": str(tmp_path / "data"), "idle_timeout_s": 30.0,
                                                "hospital_name": HOSPITAL, "repeat_visits": "allow"},
                       card_reader={"driver": "simulator"}, camera={"driver": "simulator"},
                       printer={"driver": "simulator"})


def fill_hardest(window, journey) -> None:
    """The patient's name and the department names replaced by the hardest ones, where the screen shows them."""
    from PySide6.QtWidgets import QLabel
    ident = journey.identity
    names = [n for n in ((ident.full_name if ident else None),) if n]
    for lab in window.current_screen().findChildren(QLabel):
        text = lab.text()
        for name in names:
            if name and name in text:
                lab.setText(text.replace(name, HARD_NAME))
    department = window.screens["department"]
    if window.current_screen() is department:
        for btn in department.buttons[::3]:
            btn.name.setText(HARD_DEPARTMENT)
    for _ in range(3):  # nested layouts (scroll area, body, box, label) settle in turns
        QApplication.processEvents()


def check_all_modes(kiosk, name: str, problems: dict, unreached: dict) -> None:
    if name.endswith(SAME_SCREEN) or name == "reading":
        return
    c = kiosk.controller
    before = (c.journey.large_text, c.journey.speech)
    c.timer.stop()  # the check takes longer than a patient on the screen: no idle timeout meanwhile
    for large, speech in MODES:
        if c.journey.large_text != large:
            c.send(j.SetLargeText(large))
        if c.journey.speech != speech:
            c.toggle_speech()
        QApplication.processEvents()
        where = f"{name} large={large} speech={speech}"
        missing = out_of_reach(kiosk.window)  # with the real texts: the demo hospital's departments
        if missing:
            unreached[where] = missing
        fill_hardest(kiosk.window, c.journey)
        found = clipped_texts(kiosk.window)
        if found:
            problems[where] = found
    if c.journey.large_text != before[0]:
        c.send(j.SetLargeText(before[0]))
    if c.journey.speech != before[1]:
        c.toggle_speech()
    kiosk.window.refresh()
    QApplication.processEvents()
    c._arm(force=True)


@pytest.mark.integration
@pytest.mark.timeout(900)
@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_every_letter_whole_every_control_in_reach(kiosk, sandbox, tmp_path, language, orientation):
    kiosk.window.resize(*(PORTRAIT if orientation == "portrait" else LANDSCAPE))
    kiosk.qtbot.wait(50)
    problems: dict[str, list[str]] = {}
    unreached: dict[str, list[str]] = {}
    tour = Tour(kiosk.controller, kiosk.window, SimulatorControls(kiosk.services, sandbox), tmp_path,
                language=language, on_shot=lambda name: check_all_modes(kiosk, name, problems, unreached))
    tour.run(SCENARIOS)
    assert len(problems) == 0, "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert not unreached, "controls out of reach:\n" + "\n".join(f"{k}: {v}" for k, v in unreached.items())
