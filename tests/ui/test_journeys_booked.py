"""Booked patients through the real window (short flow): chip, QR, typed ID,
appointment QR, patient code typed or scanned from an old slip. Each test has a
sandbox HIS of its own, because checking in uses up the demo appointment. The
taps asserted here are the ones the journey walker counts."""
from __future__ import annotations

import pytest

from kiosk.demo_data import demo_patient_code, demo_person
from kiosk.domain import Assurance, IdentitySource, Priority

pytestmark = pytest.mark.integration


@pytest.fixture
def sandbox(fresh_sandbox):
    return fresh_sandbox


def test_card_then_its_qr_shows_identity_and_appointment_on_one_screen_one_tap_checks_in(kiosk):
    kiosk.insert("an")
    kiosk.wait_step("need_key")  # the chip needs the ID number first
    kiosk.show_qr("an")
    kiosk.wait_step("appointment")  # no "is this you?" screen: it is on the appointment screen
    ident = kiosk.journey.identity
    assert ident.source is IdentitySource.CHIP and ident.assurance is Assurance.CHIP_VERIFIED
    shown = kiosk.texts()
    assert "NGUYỄN VĂN AN" in shown and "05/01/1993" in shown and "********2345" in shown
    assert "001093012345" not in shown and "Chip trên thẻ (đã xác thực)" in shown
    assert "09:00" in shown and "Phòng khám Nội 1" in shown
    appointment = kiosk.screen("appointment")
    assert appointment.priority.buttons[Priority.DISABILITY].isVisible()
    assert not appointment.priority.buttons[Priority.PREGNANT].isVisible()  # not offered to men
    kiosk.tap(appointment.confirm)  # the one tap
    kiosk.wait_step("done")
    result = kiosk.journey.result
    assert result.mode == "online" and result.ticket.booked and result.appointment_id
    assert result.ticket.priority is None
    assert kiosk.journey.printed and kiosk.printer.last_png()
    done = kiosk.screen("done")
    assert done.number.text() == result.ticket.label and done.take.isVisible()
    assert done.take_card.isVisible()  # the card is still on the reader
    kiosk.remove()
    kiosk.qtbot.waitUntil(lambda: not done.take_card.isVisible())


def test_qr_alone_is_lower_assurance_and_priority_is_chosen_on_the_same_screen(kiosk):
    kiosk.show_qr("nhung")
    kiosk.wait_step("appointment")
    assert kiosk.journey.identity.assurance is Assurance.QR
    appointment = kiosk.screen("appointment")
    assert "Mã QR trên thẻ" in appointment.who.text.text() and appointment.who.upgrade.isVisible()
    kiosk.tap(appointment.priority.buttons[Priority.PREGNANT])
    assert kiosk.journey.priority is Priority.PREGNANT and appointment.priority.buttons[Priority.PREGNANT].isChecked()
    kiosk.tap(appointment.confirm)
    kiosk.wait_step("done")
    ticket = kiosk.journey.result.ticket
    assert ticket.booked and ticket.priority is Priority.PREGNANT and ticket.department_code == "SAN"


def test_typed_id_on_the_card_screen_reads_the_chip_and_the_age_rule_gives_priority(kiosk):
    kiosk.insert("hung")
    kiosk.wait_step("need_key")
    need_key = kiosk.screen("need_key")
    for d in "02704800077":
        kiosk.tap(need_key.keys[d])
    assert not need_key.ok.isEnabled()  # 11 digits: nothing is sent
    kiosk.tap(need_key.keys["delete"])
    for d in "77":
        kiosk.tap(need_key.keys[d])
    assert need_key.pad.display.text() == "027 048 000 777"
    kiosk.tap(need_key.ok)
    kiosk.wait_step("appointment")
    assert kiosk.journey.identity.source is IdentitySource.CHIP
    assert not kiosk.screen("appointment").priority.isVisible()  # 75+: priority by age, nothing to ask
    kiosk.tap(kiosk.screen("appointment").confirm)
    kiosk.wait_step("done")
    ticket = kiosk.journey.result.ticket
    assert ticket.priority is Priority.ELDERLY_75 and ticket.booked
    assert kiosk.screen("done").priority.isVisible() and "75" in kiosk.screen("done").priority.text()


def test_appointment_qr_finds_the_booking_in_the_his_and_checks_in(kiosk):
    from devices.camera.samples import appointment_qr_payload, demo_appointment_code

    code = demo_appointment_code(demo_person("hung"), kiosk.services.clock.now().date())
    kiosk.camera.show(appointment_qr_payload(code), seconds=0.6)
    kiosk.wait_step("appointment")
    ident = kiosk.journey.identity
    assert ident.source is IdentitySource.APPOINTMENT_QR and ident.assurance is Assurance.QR
    assert "LÊ VĂN HÙNG" in kiosk.texts()
    kiosk.tap(kiosk.screen("appointment").confirm)
    kiosk.wait_step("done")  # 78 years old: priority by age, no question
    ticket = kiosk.journey.result.ticket
    assert ticket.booked and ticket.department_code == "TIM" and ticket.priority is Priority.ELDERLY_75


def test_patient_code_typed_on_the_keypad_finds_the_booking_and_masks_the_name(kiosk):
    kiosk.tap(kiosk.screen("welcome").patient_code)
    kiosk.wait_step("keypad")
    keypad = kiosk.screen("keypad")
    assert keypad.display.text() == "BN-_" and "mã bệnh nhân" in keypad.title.text().lower()
    for d in demo_patient_code(demo_person("an"))[3:]:
        kiosk.tap(keypad.keys[d])
    assert keypad.display.text() == "BN-012345"  # as printed on the slip, not grouped
    kiosk.tap(keypad.ok)
    kiosk.wait_step("appointment")
    ident = kiosk.journey.identity
    assert ident.source is IdentitySource.PATIENT_CODE and ident.assurance is Assurance.TYPED
    shown = kiosk.screen("appointment").who.text.text()
    assert "NGUYỄN V** AN" in shown and "NGUYỄN VĂN AN" not in kiosk.texts() and "Mã bệnh nhân" in shown
    kiosk.tap(kiosk.screen("appointment").confirm)
    kiosk.wait_step("done")
    assert kiosk.journey.result.ticket.booked and kiosk.journey.result.ticket.department_code == "NOI"


def test_old_slip_barcode_is_read_by_the_camera_and_a_card_upgrades_the_identity(kiosk):
    kiosk.camera.show_slip(demo_patient_code(demo_person("hung")), seconds=0.6)  # Code 128 on paper
    kiosk.wait_step("appointment")
    assert kiosk.journey.identity.source is IdentitySource.PATIENT_CODE
    kiosk.insert("hung")  # the card on the reader upgrades the code's identity, back on the same screen
    kiosk.qtbot.waitUntil(lambda: kiosk.journey.identity is not None
                          and kiosk.journey.identity.source is IdentitySource.CHIP)
    kiosk.wait_step("appointment")
    kiosk.tap(kiosk.screen("appointment").confirm)
    kiosk.wait_step("done")
    assert kiosk.journey.result.ticket.department_code == "TIM"


def test_a_code_that_matches_no_patient_says_so_and_offers_the_keypad(kiosk):
    kiosk.tap(kiosk.screen("welcome").patient_code)
    kiosk.wait_step("keypad")
    for d in "999999":
        kiosk.tap(kiosk.screen("keypad").keys[d])
    kiosk.tap(kiosk.screen("keypad").ok)
    kiosk.wait_step("error")
    error = kiosk.screen("error")
    assert "Không tìm thấy bệnh nhân có mã này" in error.message.text()
    assert "quầy tiếp đón" in error.message.text()
    assert error.actions["type_id"].isVisible() and error.actions["home"].isVisible()
    kiosk.tap(error.actions["type_id"])
    kiosk.wait_step("keypad")
    assert kiosk.journey.keypad_field == "citizen_id"
