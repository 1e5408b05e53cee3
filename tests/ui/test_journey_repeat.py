"""One number per visit (issue 24): a check-in that finds the patient's open
visit of today in that department (``CheckInResult.repeat``) ends on the
"already have a number" screen — no new ticket printed unless asked, a reprint
of the same ticket, and "done"."""
from __future__ import annotations

import dataclasses

import pytest

from kiosk.journey import machine as j
from kiosk.journey.spoken import spoken_text
from kiosk.ports import PatientLookup
from kiosk.texts.messages import t
from tests.ui.test_journey import chip, new_journey, only, result


def checked_in(jr, value):
    """Drive a walk-in to the check-in and answer it with ``value``."""
    jr.identity = chip()
    jr.lookup = PatientLookup([])
    jr.department_code = "NOI"
    check = j.FINISH.check_in(jr)
    return only(check, j.CheckIn), jr.handle(j.OpDone(check[0].op, value))


def test_a_repeat_shows_the_number_the_patient_has_prints_only_when_asked_and_ends():
    jr = new_journey()
    repeat = dataclasses.replace(result(), repeat=True)
    _, effects = checked_in(jr, repeat)
    assert effects == [] and jr.step is j.Step.ALREADY and not jr.printed  # no ticket printed unasked
    assert jr.result is repeat
    printing = only(jr.handle(j.Retry()), j.PrintTicket)  # "print the ticket again"
    assert printing.ticket == repeat.ticket
    jr.handle(j.OpDone(printing.op, None))
    assert jr.step is j.Step.ALREADY and jr.printed
    again = only(jr.handle(j.Retry()), j.PrintTicket)  # as often as asked
    jr.handle(j.OpDone(again.op, None))
    assert jr.step is j.Step.ALREADY
    jr.handle(j.GoHome())
    assert jr.step is j.Step.WELCOME and jr.result is None


def test_a_new_visit_still_prints_at_once():
    jr = new_journey()
    _, effects = checked_in(jr, result())
    only(effects, j.PrintTicket)
    assert jr.step is j.Step.PRINTING


def test_the_already_screen_is_said_in_both_languages():
    for lang, words in (("vi", "Bạn đã có số"), ("en", "You already have number")):
        jr = new_journey()
        jr.language = lang
        checked_in(jr, dataclasses.replace(result(), repeat=True))
        said = spoken_text(jr)
        assert words in said and "012" not in said  # the number is read digit by digit
        assert t("ui.already.message", lang, number="012", department="X").startswith(words)


def test_the_already_screen_shows_the_number_and_the_department(qtbot):
    from ui.screens import AlreadyScreen

    jr = new_journey()
    checked_in(jr, dataclasses.replace(result(), repeat=True))
    screen = AlreadyScreen(lambda ev: None)
    qtbot.addWidget(screen)
    for lang, text in (("vi", "Bạn đã có số 012 cho Nội khoa hôm nay"), ("en", "You already have number 012 for ")):
        jr.language = lang
        screen.show_journey(jr, None)
        assert screen.caption.text().startswith(text)
        assert screen.number.text() == "012"
        assert screen.title.text() == t("ui.already.title", lang)
        assert not screen.again.isHidden() and not screen.finish.isHidden()


@pytest.fixture
def sandbox(fresh_sandbox):
    """A HIS of this test's own: no other test's visits of today."""
    return fresh_sandbox


@pytest.fixture
def kiosk_config(kiosk_config):
    """The UI tests' kiosk with the default ``kiosk.repeat_visits = "refuse"``."""
    kiosk_config.kiosk.repeat_visits = "refuse"
    return kiosk_config


@pytest.mark.integration
def test_through_the_window_a_second_check_in_ends_on_the_number_the_patient_has(kiosk):
    def walk_in():
        kiosk.tap(kiosk.screen("welcome").type_id)
        kiosk.wait_step("keypad")
        kiosk.type_digits("027185004321")
        kiosk.wait_step("department")
        department = kiosk.screen("department")
        kiosk.qtbot.waitUntil(lambda: bool(department.buttons))
        codes = [d.code for d in kiosk.journey.departments]
        kiosk.tap(department.buttons[codes.index("NOI")])

    walk_in()
    kiosk.wait_step("done")
    first = kiosk.journey.result
    kiosk.qtbot.waitUntil(lambda: kiosk.journey.printed)
    printed = len(kiosk.printer.printed_images)
    kiosk.tap(kiosk.screen("done").finish)
    kiosk.wait_step("welcome")
    walk_in()
    kiosk.wait_step("already")
    screen = kiosk.screen("already")
    assert kiosk.window.current_screen() is screen
    assert screen.caption.text() == f"Bạn đã có số {first.ticket.label} cho Nội khoa hôm nay"
    assert len(kiosk.printer.printed_images) == printed  # nothing printed unasked
    check_reach_and_glyphs(kiosk)
    kiosk.tap(screen.again)
    kiosk.qtbot.waitUntil(lambda: len(kiosk.printer.printed_images) == printed + 1)
    kiosk.wait_step("already")
    kiosk.tap(screen.finish)
    kiosk.wait_step("welcome")
    his = kiosk.services.his
    found = his.client.search("Encounter", [("subject", f"Patient/{first.patient_id}"), ("_count", "50")])[0]
    assert [e["id"] for e in found] == [first.encounter_id]  # one visit in the HIS


def check_reach_and_glyphs(kiosk):
    """Every button in reach, every text whole (tests/ui/reach.py, glyphs.py): portrait and
    landscape, normal and large text, in both languages."""
    from PySide6.QtWidgets import QApplication

    from tests.ui.glyphs import clipped_texts
    from tests.ui.reach import out_of_reach

    c = kiosk.controller
    c.timer.stop()  # no idle timeout while the screen is checked
    problems = {}
    for size in ((1080, 1920), (1920, 1080)):
        kiosk.window.resize(*size)
        for large in (False, True):
            for lang in ("vi", "en"):
                c.send(j.SetLargeText(large))
                c.send(j.SetLanguage(lang))
                for _ in range(3):
                    QApplication.processEvents()
                assert kiosk.journey.step is j.Step.ALREADY
                found = out_of_reach(kiosk.window) + clipped_texts(kiosk.window)
                if found:
                    problems[f"{size} large={large} {lang}"] = found
    c.send(j.SetLargeText(False))
    c.send(j.SetLanguage("vi"))
    kiosk.window.resize(1080, 1920)
    QApplication.processEvents()
    assert problems == {}
