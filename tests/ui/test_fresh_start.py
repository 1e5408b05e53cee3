"""Each patient starts fresh: whatever the last one left — a screen scrolled down,
large text, speech on and louder — is back to the configured defaults after
"Xong"/cancel and after the idle timeout."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from kiosk.journey import machine as j


def leave_things_behind(kiosk):
    """A patient opens the keypad, turns large text and speech on, turns it up and scrolls down."""
    kiosk.tap(kiosk.screen("welcome").type_id)
    kiosk.wait_step("keypad")
    kiosk.tap(kiosk.window.large_button)
    kiosk.tap(kiosk.window.speech_button)
    kiosk.tap(kiosk.window.louder_button)
    kiosk.window.resize(700, 560)  # a small window: the keypad screen's body scrolls
    kiosk.qtbot.wait(50)
    bar = kiosk.screen("keypad").scroller.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum())
    kiosk.tap(kiosk.screen("keypad").keys["1"])  # the last touch leaves a control active
    return bar


def assert_fresh(kiosk, bar):
    c = kiosk.controller
    assert c.journey.step is j.Step.WELCOME
    assert not c.journey.large_text and not c.journey.speech
    assert c.speech.volume() == c.config.speech.volume
    focus = QApplication.focusWidget()
    assert focus is None or focus.window() is not kiosk.window or focus is kiosk.window
    kiosk.tap(kiosk.screen("welcome").type_id)
    kiosk.wait_step("keypad")
    assert bar.value() == 0, "the next patient's keypad opens where the last one left it"


@pytest.mark.integration
def test_next_patient_starts_fresh_after_done(kiosk):
    bar = leave_things_behind(kiosk)
    kiosk.tap(kiosk.screen("keypad").back)  # the same event as "Xong" on the done screen: GoHome
    kiosk.wait_step("welcome")
    assert_fresh(kiosk, bar)


@pytest.mark.integration
def test_next_patient_starts_fresh_after_idle_timeout(kiosk):
    bar = leave_things_behind(kiosk)
    kiosk.controller._timed_out()  # the idle timer firing
    kiosk.wait_step("welcome")
    assert_fresh(kiosk, bar)
