"""Large text and high contrast: one touch in the header switches every screen
to 1.5× text; in both orientations no widget reaches outside the screen (a
body with more than fits scrolls), no text is clipped and every button stays
at least 15 mm tall."""
from __future__ import annotations

import pytest

from app.demo_controls import SimulatorControls
from tests.ui.test_screens import layout_problems, overflow_problems
from ui import style
from ui.app import LANDSCAPE, PORTRAIT
from ui.tour import Tour

pytestmark = pytest.mark.integration


@pytest.fixture
def sandbox(fresh_sandbox):
    return fresh_sandbox  # the chip scenario uses up a demo appointment


def title_px(window) -> int:
    return window.current_screen().title.fontInfo().pixelSize()


# In landscape with large text these screens are arranged in two columns so that their main content —
# the queue number and where to go, every key of the keypad — is on screen without scrolling. Eight
# departments in large text cannot all fit a landscape screen: there the body may scroll, but only while
# the screen shows at once that there is more ("▼ Còn nữa bên dưới", ui/screens/base.py MoreBelow).
NO_SCROLLING = ("done_large", "done_walk_in_large", "keypad_large", "card_needs_key_large")
SCROLLING_WITH_CUE = ("department_large",)


def scrolling_problems(window) -> list[str]:
    screen = window.current_screen()
    bar = screen.scroller.verticalScrollBar()
    found = [f"the body scrolls ({bar.maximum()}px more than the screen shows)"] if bar.maximum() > 0 else []
    viewport = screen.scroller.viewport()
    for button in getattr(screen, "buttons", []):  # the department buttons: whole, inside the viewport
        top_left = button.mapTo(viewport, button.rect().topLeft())
        bottom_right = button.mapTo(viewport, button.rect().bottomRight())
        if not (viewport.rect().contains(top_left) and viewport.rect().contains(bottom_right)):
            found.append(f"department button {button.name.text()!r} not wholly on screen")
    return found


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_large_text_fits_every_screen_in_both_orientations(kiosk, sandbox, tmp_path, orientation):
    kiosk.window.resize(*(PORTRAIT if orientation == "portrait" else LANDSCAPE))
    kiosk.qtbot.wait(50)
    normal_title = title_px(kiosk.window)
    problems: dict[str, list[str]] = {}
    checked: list[str] = []

    def check(name):
        if "large" not in name:
            return
        checked.append(name)
        assert kiosk.journey.large_text and title_px(kiosk.window) >= style.LARGE_TEXT * normal_title - 1
        found = layout_problems(kiosk.window)
        if orientation == "landscape" and name in NO_SCROLLING:
            found += scrolling_problems(kiosk.window)
        if orientation == "landscape" and name in SCROLLING_WITH_CUE:
            screen = kiosk.window.current_screen()
            if screen.scroller.verticalScrollBar().maximum() > 0 and not screen.more.isVisible():
                found.append("the body scrolls and nothing on screen says there is more")
        if found:
            problems[name] = found

    tour = Tour(kiosk.controller, kiosk.window, SimulatorControls(kiosk.services, sandbox), tmp_path, on_shot=check)
    tour.run(("chip", "large"))
    assert {"appointment_large", "done_large", "welcome_large", "card_needs_key_large", "department_large",
            "keypad_large", "done_walk_in_large"} <= set(checked)
    assert problems == {}
    assert not kiosk.journey.large_text  # the next patient starts with normal text
    # the check itself sees a widget pushed outside the window
    button = kiosk.window.language
    place = button.geometry()
    button.move(kiosk.window.width() + 10, place.y())
    assert any("outside the" in p for p in overflow_problems(kiosk.window))
    button.setGeometry(place)
