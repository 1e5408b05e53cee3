"""Every screen in both orientations and both languages, saved as PNG through
the scripted tour (the same one `kiosk demo --offscreen` runs), with a check
that no text is clipped and no touch target is under 15 mm. The Vietnamese
screens also go to docs/images/screens/ for the README (`make screenshots`)."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtWidgets import QLabel, QPushButton

from app.demo_controls import SimulatorControls
from tests.ui.conftest import DOCS_SCREENS
from ui import style
from ui.app import LANDSCAPE, PORTRAIT
from ui.tour import SCENARIOS, Tour

DOC_SCREENS = ("welcome", "card_needs_key", "reading", "appointment", "appointment_qr", "keypad", "department",
               "department_priority", "keypad_patient_code", "appointment_patient_code", "department_patient_code_slip",
               "done", "done_priority", "welcome_paper_out", "done_not_printed", "error_card_removed",
               "department_offline", "done_offline", "welcome_large", "card_needs_key_large", "appointment_large",
               "department_large", "keypad_large", "done_large", "welcome_voice", "appointment_voice",
               "department_voice", "done_voice")


@pytest.fixture
def sandbox(fresh_sandbox):
    """Each tour books the demo appointments, so each gets a HIS of its own."""
    return fresh_sandbox


def scrolled_box(screen, w):
    """The innermost scrolling content ``w`` is in (the body, or a column that scrolls on its own), or None."""
    from PySide6.QtWidgets import QScrollArea
    for area in screen.findChildren(QScrollArea):
        content = area.widget()
        if area.isVisible() and content is not None and content.isAncestorOf(w):
            inner = scrolled_box_in(content, w)
            return inner or content
    return None


def scrolled_box_in(content, w):
    from PySide6.QtWidgets import QScrollArea
    for area in content.findChildren(QScrollArea):
        inner = area.widget()
        if area.isVisible() and inner is not None and inner.isAncestorOf(w):
            return scrolled_box_in(inner, w) or inner
    return None


def overflow_problems(window) -> list[str]:
    """Visible widgets that reach outside the window: a widget inside a scrolling
    body (or a column that scrolls on its own) only has to be inside it (it is
    reached by scrolling)."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QWidget
    problems = []
    screen = window.current_screen()
    whole = QRect(0, 0, window.width(), window.height())
    for w in [window.current_screen()] + window.findChildren(QWidget):
        if not w.isVisibleTo(window) or (w is not screen and w.window() is not window):
            continue
        box = scrolled_box(screen, w) if w is not screen and screen.isAncestorOf(w) else None
        if box is not None:
            inside = QRect(w.mapTo(box, w.rect().topLeft()), w.size())
            if not box.rect().adjusted(-2, -2, 2, 2).contains(inside):
                problems.append(f"{type(w).__name__} {getattr(w, 'text', lambda: '')()[:20]!r} outside the body")
            continue
        if w is not screen and not (screen.isAncestorOf(w) or not window.stack.isAncestorOf(w)):
            continue  # another step's screen
        rect = QRect(w.mapTo(window, w.rect().topLeft()), w.size())
        if not whole.adjusted(-2, -2, 2, 2).contains(rect):
            problems.append(f"{type(w).__name__} {getattr(w, 'text', lambda: '')()[:20]!r} at {rect.getRect()} "
                            f"outside the {window.width()}x{window.height()} window")
    return problems


def layout_problems(window) -> list[str]:
    """Texts that do not fit their widget, buttons smaller than 15 mm, widgets outside the window."""
    problems = overflow_problems(window)
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
    for btn in screen.findChildren(QPushButton) + [window.language, window.large_button, window.speech_button]:
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
    journey = getattr(kiosk.journey, "machine", kiosk.journey)  # the journey, or its state machine
    assert journey.identity is None and journey.result is None
    if language == "vi":
        DOCS_SCREENS.mkdir(parents=True, exist_ok=True)
        for name in DOC_SCREENS:
            shutil.copyfile(out / f"{name}.png", DOCS_SCREENS / f"{name}_{orientation}.png")
