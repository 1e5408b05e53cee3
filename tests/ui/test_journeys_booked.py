"""Booked patients through the real window: chip, QR, typed ID. Each test has
a sandbox HIS of its own, because checking in uses up the demo appointment."""
from __future__ import annotations

import pytest

from kiosk.domain import Assurance, IdentitySource, Priority

pytestmark = pytest.mark.integration


@pytest.fixture
def sandbox(fresh_sandbox):
    return fresh_sandbox


def test_card_first_then_qr_opens_the_chip_and_checks_in_the_booked_patient(kiosk):
    kiosk.insert("an")
    kiosk.wait_step("need_key")  # the chip needs the ID number first
    kiosk.show_qr("an")
    kiosk.wait_step("confirm_identity")
    ident = kiosk.journey.identity
    assert ident.source is IdentitySource.CHIP and ident.assurance is Assurance.CHIP_VERIFIED
    confirm = kiosk.screen("confirm")
    shown = kiosk.texts()
    assert "NGUYỄN VĂN AN" in shown and "05/01/1993" in shown and "********2345" in shown
    assert "001093012345" not in shown and "Chip trên thẻ (đã xác thực)" in shown
    kiosk.qtbot.waitUntil(lambda: confirm.photo.isVisible())  # the face image follows the identity
    assert not confirm.photo.pixmap().isNull()
    kiosk.tap(confirm.yes)
    kiosk.wait_step("appointment")
    assert "09:00" in kiosk.texts() and "Phòng khám Nội 1" in kiosk.texts()
    kiosk.tap(kiosk.screen("appointment").confirm)
    kiosk.wait_step("priority")
    kiosk.tap(kiosk.screen("priority").none)
    kiosk.wait_step("done")
    result = kiosk.journey.result
    assert result.mode == "online" and result.ticket.booked and result.appointment_id
    assert kiosk.journey.printed and kiosk.printer.last_png()
    done = kiosk.screen("done")
    assert done.number.text() == result.ticket.label and done.take.isVisible()
    assert done.take_card.isVisible()  # the card is still on the reader
    kiosk.remove()
    kiosk.qtbot.waitUntil(lambda: not done.take_card.isVisible())


def test_qr_alone_is_shown_as_lower_assurance_and_still_checks_in(kiosk):
    kiosk.show_qr("nhung")
    kiosk.wait_step("confirm_identity")
    assert kiosk.journey.identity.assurance is Assurance.QR
    assert "Mã QR trên thẻ" in kiosk.texts()
    assert kiosk.screen("confirm").upgrade.isVisible()  # "place the card to verify with the chip"
    kiosk.tap(kiosk.screen("confirm").yes)
    kiosk.wait_step("appointment")
    kiosk.tap(kiosk.screen("appointment").confirm)
    kiosk.wait_step("priority")
    assert kiosk.screen("priority").choices[Priority.PREGNANT].isVisible()
    kiosk.tap(kiosk.screen("priority").choices[Priority.PREGNANT])
    kiosk.wait_step("done")
    ticket = kiosk.journey.result.ticket
    assert ticket.booked and ticket.priority is Priority.PREGNANT and ticket.department_code == "SAN"


def test_typed_id_with_card_on_reader_reads_the_chip_and_the_age_rule_gives_priority(kiosk):
    kiosk.insert("hung")
    kiosk.wait_step("need_key")
    kiosk.tap(kiosk.screen("need_key").type_id)
    kiosk.wait_step("keypad")
    keypad = kiosk.screen("keypad")
    for d in "02704800077":
        kiosk.tap(keypad.keys[d])
    assert not keypad.ok.isEnabled()  # 11 digits: nothing is sent
    kiosk.tap(keypad.keys["delete"])
    for d in "77":
        kiosk.tap(keypad.keys[d])
    assert keypad.display.text() == "027 048 000 777"
    kiosk.tap(keypad.ok)
    kiosk.wait_step("confirm_identity")
    assert kiosk.journey.identity.source is IdentitySource.CHIP
    kiosk.tap(kiosk.screen("confirm").yes)
    kiosk.wait_step("appointment")
    kiosk.tap(kiosk.screen("appointment").confirm)
    kiosk.wait_step("done")  # born 1948: no priority question
    ticket = kiosk.journey.result.ticket
    assert ticket.priority is Priority.ELDERLY_75 and ticket.booked
    assert kiosk.screen("done").priority.isVisible() and "75" in kiosk.screen("done").priority.text()


def test_appointment_qr_finds_the_booking_in_the_his_and_checks_in(kiosk):
    from devices.camera.samples import appointment_qr_payload, demo_appointment_code
    from kiosk.demo_data import demo_person

    code = demo_appointment_code(demo_person("hung"), kiosk.services.clock.now().date())
    kiosk.camera.show(appointment_qr_payload(code), seconds=0.6)
    kiosk.wait_step("confirm_identity")
    ident = kiosk.journey.identity
    assert ident.source is IdentitySource.APPOINTMENT_QR and ident.assurance is Assurance.QR
    assert "LÊ VĂN HÙNG" in kiosk.texts()
    kiosk.tap(kiosk.screen("confirm").yes)
    kiosk.wait_step("appointment")
    kiosk.tap(kiosk.screen("appointment").confirm)
    kiosk.wait_step("done")  # 78 years old: priority by age, no question
    ticket = kiosk.journey.result.ticket
    assert ticket.booked and ticket.department_code == "TIM" and ticket.priority is Priority.ELDERLY_75
