"""Every screen in both orientations and both languages, saved as PNG through
the scripted tour (the same one `kiosk demo --offscreen` runs), with a check
that no text is clipped and no touch target is under 15 mm. The Vietnamese
screens also go to docs/images/screens/ for the README (`make screenshots`)."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtWidgets import QLabel, QPushButton

from app.compose import SimulatorControls
from tests.ui.conftest import DOCS_SCREENS
from ui import style
from ui.app import LANDSCAPE, PORTRAIT
from ui.tour import SCENARIOS, Tour

DOC_SCREENS = ("welcome", "card_needs_key", "reading", "confirm_chip", "confirm_qr", "appointment", "keypad",
               "department", "priority_walk_in", "done", "done_priority", "welcome_paper_out", "done_not_printed",
               "error_card_removed", "department_offline", "done_offline")


@pytest.fixture
def sandbox(fresh_sandbox):
    """Each tour books the demo appointments, so each gets a HIS of its own."""
    return fresh_sandbox


def layout_problems(window) -> list[str]:
    """Texts that do not fit their widget, and buttons smaller than 15 mm."""
    problems = []
    screen = window.current_screen()
    min_px = style.MIN_TARGET_MM * window.screen().physicalDotsPerInch() / 25.4
    for lab in screen.findChildren(QLabel) + window.findChildren(QLabel, "hospital"):
        if not lab.isVisibleTo(window) or not lab.text() or lab.pixmap() is not None and not lab.pixmap().isNull():
            continue
        if lab.wordWrap():
            need_h = lab.heightForWidth(lab.width())
            if need_h > lab.height() + 2:
                problems.append(f"label {lab.text()[:30]!r}: needs {need_h}px height, has {lab.height()}")
        else:
            need_w = lab.fontMetrics().horizontalAdvance(lab.text())
            if need_w > lab.width() + 2:
                problems.append(f"label {lab.text()[:30]!r}: needs {need_w}px width, has {lab.width()}")
    for btn in screen.findChildren(QPushButton) + [window.language]:
        if not btn.isVisibleTo(window):
            continue
        lines = btn.text().split("\n")
        need_w = max(btn.fontMetrics().horizontalAdvance(line) for line in lines)
        if need_w > btn.width() - 8:
            problems.append(f"button {btn.text()[:30]!r}: text {need_w}px wider than {btn.width()}px")
        if btn.height() < min_px - 0.5:
            problems.append(f"button {btn.text()[:30]!r}: {btn.height()}px is under 15 mm ({min_px:.0f}px)")
    return problems


@pytest.mark.integration
@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_every_screen_in_both_orientations_and_languages(kiosk, sandbox, tmp_path, language, orientation):
    kiosk.window.resize(*(PORTRAIT if orientation == "portrait" else LANDSCAPE))
    kiosk.qtbot.wait(50)
    problems: dict[str, list[str]] = {}

    def check(name):
        found = layout_problems(kiosk.window)
        if found:
            problems[name] = found

    out = tmp_path / f"{language}_{orientation}"
    tour = Tour(kiosk.controller, kiosk.window, SimulatorControls(kiosk.services, sandbox), out, language=language,
                on_shot=check)
    saved = tour.run(SCENARIOS)
    names = {p.stem for p in saved}
    assert set(DOC_SCREENS) <= names, set(DOC_SCREENS) - names
    assert problems == {}
    assert kiosk.journey.identity is None and kiosk.journey.result is None
    if language == "vi":
        DOCS_SCREENS.mkdir(parents=True, exist_ok=True)
        for name in DOC_SCREENS:
            shutil.copyfile(out / f"{name}.png", DOCS_SCREENS / f"{name}_{orientation}.png")
