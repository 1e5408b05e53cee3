"""Small things a patient notices on screen (issue 24): the speech bar's texts whole in
both languages, a notice when speech cannot play, a hint while a QR code is seen but not
yet readable, and a patient code shown exactly as printed."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from kiosk.journey import machine as j
from kiosk.ports import QR_READABLE, QR_UNREADABLE, SPEECH_FAILED, SPEECH_PLAYED
from ui.app import LANDSCAPE, PORTRAIT

SIZES = {"portrait": PORTRAIT, "landscape": LANDSCAPE, "demo": (720, 1280), "demo-landscape": (1280, 720)}


def settle(kiosk) -> None:
    for _ in range(3):
        QApplication.processEvents()
    kiosk.qtbot.wait(20)


def speech_on(kiosk) -> None:
    if not kiosk.controller.journey.speech:
        kiosk.controller.toggle_speech()
    settle(kiosk)


def bar_cut(window) -> list[str]:
    """The speech bar's texts that do not fit their widget (measured with the widget's font)."""
    cut = []
    for btn in (window.repeat_button, window.stop_button, window.quieter_button, window.louder_button):
        need = btn.fontMetrics().horizontalAdvance(btn.text())
        if need >= btn.width() or btn.width() < btn.sizeHint().width():
            cut.append(f"{btn.text()!r}: {need}px text, hint {btn.sizeHint().width()}px, button {btn.width()}px")
    for lab in (window.volume_label, window.speech_problem):
        if not lab.isVisibleTo(window):
            continue
        need = lab.fontMetrics().horizontalAdvance(lab.text())
        if need > lab.contentsRect().width():
            cut.append(f"{lab.text()!r}: {need}px text, label {lab.contentsRect().width()}px")
    return cut


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_speech_bar_texts_fit_in_every_language_and_text_size(kiosk, size):
    kiosk.window.resize(*SIZES[size])
    speech_on(kiosk)
    problems = {}
    for language in ("vi", "en"):
        kiosk.controller.send(j.SetLanguage(language))
        for large in (False, True):
            kiosk.controller.send(j.SetLargeText(large))
            settle(kiosk)
            cut = bar_cut(kiosk.window)
            if cut:
                problems[f"{language} large={large}"] = cut
    assert not problems, problems


def test_a_notice_in_the_speech_bar_when_speech_cannot_play(kiosk):
    speech_on(kiosk)
    window = kiosk.window
    assert not window.speech_problem.isVisible()
    kiosk.services.speech._on_event(SPEECH_FAILED)  # what the speaker reports, from its thread
    kiosk.qtbot.waitUntil(lambda: window.speech_problem.isVisible(), timeout=3000)
    assert window.speech_problem.text() == "Không phát được âm thanh"
    kiosk.controller.send(j.SetLanguage("en"))
    settle(kiosk)
    assert window.speech_problem.text() == "Sound cannot play"
    assert not bar_cut(window)
    kiosk.services.speech._on_event(SPEECH_PLAYED)
    kiosk.qtbot.waitUntil(lambda: not window.speech_problem.isVisible(), timeout=3000)


def test_the_simulated_speaker_reports_a_sentence_it_cannot_play(kiosk):
    speech = kiosk.services.speech
    speech_on(kiosk)
    speech.fail(True)
    kiosk.controller.repeat_speech()
    kiosk.qtbot.waitUntil(lambda: kiosk.window.speech_problem.isVisible(), timeout=5000)
    speech.fail(False)
    kiosk.controller.repeat_speech()
    kiosk.qtbot.waitUntil(lambda: not kiosk.window.speech_problem.isVisible(), timeout=5000)


def test_the_welcome_screen_asks_to_hold_a_code_that_cannot_be_read_still_and_closer(kiosk):
    welcome = kiosk.screen("welcome")
    assert kiosk.window.current_screen() is welcome
    assert not welcome.qr_hint.isVisible()
    kiosk.services.scanner.show_unreadable(3.5)  # a smudged code, held for a while
    kiosk.qtbot.waitUntil(lambda: welcome.qr_hint.isVisible(), timeout=8000)
    assert welcome.qr_hint.text() == "Giữ mã QR yên và gần hơn…"
    kiosk.qtbot.waitUntil(lambda: not welcome.qr_hint.isVisible(), timeout=8000)  # taken away
    kiosk.services.scanner._on_event(QR_UNREADABLE)  # what the scan loop reports, from its thread
    kiosk.controller.send(j.SetLanguage("en"))
    settle(kiosk)
    assert welcome.qr_hint.isVisible() and welcome.qr_hint.text() == "Hold the QR code still and closer…"
    assert kiosk.controller.camera_state == "ready"  # the hint is no camera state
    kiosk.controller.bridge.camera_event.emit(QR_READABLE)
    settle(kiosk)
    assert not welcome.qr_hint.isVisible()


def test_a_patient_code_is_shown_as_printed_and_the_id_number_in_groups(kiosk):
    kiosk.tap(kiosk.screen("welcome").patient_code)
    kiosk.wait_step(j.Step.KEYPAD)
    keypad = kiosk.screen("keypad")
    prefix = kiosk.controller.journey.settings.patient_code_prefix
    for d in "001122":
        kiosk.tap(keypad.keys[d])
    assert keypad.display.text() == prefix + "001122"
    kiosk.tap(keypad.back)
    kiosk.wait_step(j.Step.WELCOME)
    kiosk.tap(kiosk.screen("welcome").type_id)
    kiosk.wait_step(j.Step.KEYPAD)
    for d in "0012345":
        kiosk.tap(keypad.keys[d])
    assert keypad.display.text() == "001 234 5"
