"""Walk-ins and everything that can go wrong, through the real window on the
session's sandbox HIS and the device simulators."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

import pytest
from PySide6.QtCore import QPoint, Qt

from kiosk.domain import Assurance, IdentitySource, Priority
from kiosk.ports import PRINTER_OK, PRINTER_PAPER_OUT

pytestmark = pytest.mark.integration


def walk_in_to_done(kiosk, priority=None):
    """The short flow: priority (if any) and the department on one screen; the department checks in."""
    kiosk.wait_step("department")
    department = kiosk.screen("department")
    kiosk.qtbot.waitUntil(lambda: bool(department.buttons))
    if priority:
        kiosk.tap(department.priority.buttons[priority])
    codes = [d.code for d in kiosk.journey.departments]
    kiosk.tap(department.buttons[codes.index("NOI")])
    kiosk.wait_step("done")
    return kiosk.journey.result


def test_typed_id_walk_in_sees_waiting_counts_and_declares_a_disability(kiosk):
    kiosk.tap(kiosk.screen("welcome").type_id)
    kiosk.wait_step("keypad")
    kiosk.type_digits("027185004321")
    kiosk.wait_step("department")
    assert kiosk.journey.identity.assurance is Assurance.TYPED
    who = kiosk.screen("department").who.text.text()
    assert "Số tự nhập" in who and "********4321" in who and "BÍCH NGỌC" not in kiosk.texts()  # no name shown
    kiosk.qtbot.waitUntil(lambda: kiosk.journey.waiting is not None)
    assert "người đang chờ" in kiosk.texts()
    result = walk_in_to_done(kiosk, Priority.DISABILITY)
    assert not result.ticket.booked and result.ticket.priority is Priority.DISABILITY
    assert result.ticket.department_code == "NOI"


def test_new_patient_by_qr_is_upgraded_by_laying_the_card_on_the_reader(kiosk):
    kiosk.show_qr("huong")
    kiosk.wait_step("department")
    assert kiosk.journey.identity.assurance is Assurance.QR
    kiosk.insert("huong")
    kiosk.qtbot.waitUntil(lambda: kiosk.journey.identity is not None
                          and kiosk.journey.identity.source is IdentitySource.CHIP)
    kiosk.wait_step("department")  # back on the same screen, now verified by the chip
    assert "Chip trên thẻ" in kiosk.screen("department").who.text.text()
    result = walk_in_to_done(kiosk)
    assert result.encounter_id and result.mode == "online"


def test_printer_out_of_paper_is_said_before_the_patient_starts_and_the_number_is_on_screen(kiosk):
    kiosk.printer.set_state(PRINTER_PAPER_OUT)
    kiosk.controller.bridge.refresh_printer()
    kiosk.qtbot.waitUntil(lambda: kiosk.controller.printer_status == PRINTER_PAPER_OUT)
    welcome = kiosk.screen("welcome")
    assert welcome.printer_warning.isVisible() and "không in được" in welcome.printer_warning.text()
    assert "Máy in hết giấy" in kiosk.window.status["printer"].text()
    before = len(kiosk.printer.printed_images)
    kiosk.show_qr("ngoc")
    result = walk_in_to_done(kiosk)
    done = kiosk.screen("done")
    assert not kiosk.journey.printed and len(kiosk.printer.printed_images) == before
    assert done.number.text() == result.ticket.label and done.notice.isVisible()
    assert not done.take.isVisible() and not done.again.isVisible()
    kiosk.printer.set_state(PRINTER_OK)  # paper put back while the patient is still there
    kiosk.controller.bridge.refresh_printer()
    kiosk.qtbot.waitUntil(lambda: done.again.isVisible())
    kiosk.tap(done.again)
    kiosk.qtbot.waitUntil(lambda: kiosk.journey.printed)
    assert len(kiosk.printer.printed_images) == before + 1


def test_card_removed_mid_read_says_what_to_do_and_reading_again_works(kiosk):
    kiosk.reader.set_slow(3.0)
    kiosk.insert("an")
    kiosk.wait_step("need_key")
    kiosk.show_qr("an")
    kiosk.wait_step("reading")
    assert "giữ yên thẻ" in kiosk.texts()
    kiosk.remove()
    kiosk.wait_step("error")
    error = kiosk.screen("error")
    assert "Thẻ bị nhấc ra" in error.message.text()
    assert all(error.actions[a].isVisible() for a in ("retry", "type_id", "home"))
    assert error.use_qr.isVisible()  # the camera is listening too
    kiosk.reader.set_slow(0.2)
    kiosk.insert("an")  # put back: read again by itself
    kiosk.wait_step("appointment")
    assert kiosk.journey.identity.source is IdentitySource.CHIP


def test_idle_timeout_returns_to_welcome_and_clears_personal_data(kiosk):
    kiosk.journey.settings.idle_timeout_s = 0.5  # kiosk.idle_timeout_s, shortened for the test
    kiosk.show_qr("hung")
    kiosk.qtbot.waitUntil(lambda: kiosk.journey.step.value in ("appointment", "department"))
    ref = weakref.ref(kiosk.journey.identity)
    assert "LÊ VĂN HÙNG" in kiosk.texts()
    kiosk.wait_step("welcome", timeout=10000)
    gc.collect()
    shown = kiosk.texts()
    assert "LÊ VĂN HÙNG" not in shown and "0777" not in shown and "03/03/1948" not in shown
    assert kiosk.journey.identity is None and ref() is None
    # digits typed and left on the keypad are wiped too
    kiosk.tap(kiosk.screen("welcome").type_id)
    kiosk.wait_step("keypad")
    for d in "0270480":
        kiosk.tap(kiosk.screen("keypad").keys[d])
    kiosk.wait_step("welcome", timeout=10000)
    assert kiosk.screen("keypad").digits == "" and "027 048 0" not in kiosk.texts()


def test_language_switch_is_one_touch_and_resets_for_the_next_patient(kiosk):
    assert kiosk.screen("welcome").title.text().startswith("Xin chào")
    kiosk.tap(kiosk.window.language)
    kiosk.qtbot.waitUntil(lambda: kiosk.journey.language == "en")
    assert kiosk.screen("welcome").title.text() == "Welcome! Check in for your visit"
    assert kiosk.window.language.text() == "Tiếng Việt" and "Online" in kiosk.window.status["connection"].text()
    kiosk.show_qr("ngoc")
    kiosk.wait_step("department")
    assert "QR code on the card" in kiosk.screen("department").who.text.text()
    assert kiosk.screen("department").home.text() == "That is not me"
    kiosk.tap(kiosk.screen("department").home)
    kiosk.wait_step("welcome")
    assert kiosk.journey.language == "vi" and kiosk.screen("welcome").title.text().startswith("Xin chào")


def test_his_going_offline_mid_journey_still_gives_a_ticket_marked_offline(kiosk, sandbox):
    sandbox.set_faults(fail_status=503, fail_count=1_000_000)
    try:
        kiosk.show_qr("ngoc")
        kiosk.wait_step("department", timeout=60000)
        assert kiosk.screen("department").notice.isVisible()  # "offline: you still get a number"
        result = walk_in_to_done(kiosk)
    finally:
        sandbox.set_faults()
    assert result.mode == "offline" and result.ticket.offline and kiosk.journey.offline
    assert kiosk.screen("done").offline.isVisible()
    assert kiosk.screen("done").number.text() == result.ticket.label


def test_five_taps_in_the_top_left_corner_ask_for_the_admin_screen(kiosk):
    with kiosk.qtbot.waitSignal(kiosk.window.admin_requested, timeout=3000):
        for _ in range(5):
            kiosk.qtbot.mouseClick(kiosk.window, Qt.MouseButton.LeftButton, pos=QPoint(8, 8))


def test_demo_without_a_display_says_so_in_one_line():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-m", "app", "demo"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "--offscreen --screenshots" in lines[0]
