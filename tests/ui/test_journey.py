"""The Qt-free journey state machine, driven event by event (no Qt, no threads)."""
from __future__ import annotations

import dataclasses
import gc
import weakref
from datetime import date, datetime, timezone

from kiosk.demo_data import demo_person, person_identity
from kiosk.domain import (
    Appointment,
    Assurance,
    CheckInResult,
    ClinicRoom,
    Department,
    IdentitySource,
    Patient,
    Priority,
    Ticket,
)
from kiosk.errors import (
    DepartmentRequired,
    HisUnavailable,
    KioskError,
    PatientAmbiguous,
)
from kiosk.journey import machine as j
from kiosk.ports import PRINTER_OK, PRINTER_PAPER_OUT, PatientLookup

TODAY = date(2026, 11, 25)
AN = demo_person("an")
QR_AN = "|".join([AN["citizen_id"], AN["old_id"], AN["full_name"], "05011993", "Nam", AN["address"], "10042021"])
DEPTS = (Department("NOI", "Nội khoa", (ClinicRoom("P101", "Phòng khám Nội 1", "Tầng 1"),)),
         Department("SAN", "Sản phụ khoa", (ClinicRoom("P301", "Phòng khám Sản", "Tầng 3"),)))


def new_journey(**kw) -> j.Journey:
    kw.setdefault("flow", j.FLOW_STEP_BY_STEP)  # the flow before issue #18; the short flow: test_journey_short.py
    journey = j.Journey(j.Settings(kiosk_id="K1", **kw), today=lambda: TODAY)
    journey.handle(j.DepartmentsLoaded(DEPTS, {"NOI": 4}))
    return journey


def chip(key="an"):
    return person_identity(demo_person(key))


def ticket(offline=False):
    return Ticket(reference="x", number=12, label="012", department_code="NOI", department_name="Nội khoa",
                  room_code="P101", room_name="Phòng khám Nội 1", room_where="Tầng 1",
                  issued_at=datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc), booked=False, offline=offline)


def result(offline=False):
    return CheckInResult(ticket=ticket(offline), mode="offline" if offline else "online",
                         patient_id="p1", encounter_id="e1", appointment_id=None)


def only(effects, kind):
    assert len(effects) == 1 and isinstance(effects[0], kind), effects
    return effects[0]


def test_card_first_then_qr_reads_chip_with_can_and_checks_in_booked_patient():
    jr = new_journey(read_photo=True)  # privacy.read_photo (default off)
    assert jr.handle(j.CardInserted()) == [] and jr.step is j.Step.NEED_KEY
    read = only(jr.handle(j.QrScanned(QR_AN)), j.ReadChip)
    assert jr.step is j.Step.READING and read.key.can == "012345" and not read.with_photo
    photo = only(jr.handle(j.OpDone(read.op, chip())), j.ReadPhoto)  # the photo comes after
    assert jr.step is j.Step.CONFIRM_IDENTITY and jr.identity.source is IdentitySource.CHIP
    assert jr.identity.photo is None
    jr.handle(j.OpDone(photo.op, b"\xff\xd8jpeg"))
    assert jr.identity.photo == b"\xff\xd8jpeg" and jr.step is j.Step.CONFIRM_IDENTITY
    look = only(jr.handle(j.Confirm()), j.LookupPatient)
    assert look.citizen_id == AN["citizen_id"] and look.day == TODAY
    appt = Appointment("a1", "p1", datetime(2026, 11, 25, 9, 0), "booked", department_code="NOI", room_code="P101")
    jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")], {"p1": [appt]})))
    assert jr.step is j.Step.APPOINTMENT and jr.appointment is appt
    assert jr.handle(j.Confirm()) == [] and jr.step is j.Step.PRIORITY  # born 1993: no age rule
    check = only(jr.handle(j.DeclarePriority(None)), j.CheckIn)
    assert check.request.department_code is None and check.request.declared_priority is None
    assert check.request.kiosk_id == "K1"
    printing = only(jr.handle(j.OpDone(check.op, result())), j.PrintTicket)
    jr.handle(j.OpDone(printing.op, None))
    assert jr.step is j.Step.DONE and jr.printed and not jr.offline


def test_qr_alone_is_lower_assurance_and_a_card_upgrades_it():
    jr = new_journey()
    assert jr.handle(j.QrScanned("\ufeff" + QR_AN + "\r\n")) == []
    assert jr.step is j.Step.CONFIRM_IDENTITY and jr.identity.assurance is Assurance.QR
    read = only(jr.handle(j.CardInserted()), j.ReadChip)
    jr.handle(j.OpDone(read.op, chip()))
    assert jr.identity.source is IdentitySource.CHIP and jr.step is j.Step.CONFIRM_IDENTITY


def test_a_photo_that_cannot_be_read_or_comes_late_changes_nothing():
    jr = new_journey(read_photo=True)  # privacy.read_photo (default off)
    jr.handle(j.CardInserted())
    read = only(jr.handle(j.QrScanned(QR_AN)), j.ReadChip)
    photo = only(jr.handle(j.OpDone(read.op, chip())), j.ReadPhoto)
    jr.handle(j.OpFailed(photo.op, KioskError("DG2 unreadable")))
    assert jr.step is j.Step.CONFIRM_IDENTITY and jr.identity.photo is None
    jr.handle(j.Confirm())
    jr.handle(j.OpDone(photo.op, b"late"))
    assert jr.identity.photo is None and jr.step is j.Step.LOOKING_UP


def test_failed_upgrade_keeps_the_qr_identity_with_a_notice():
    jr = new_journey()
    jr.handle(j.QrScanned(QR_AN))
    read = only(jr.handle(j.CardInserted()), j.ReadChip)
    jr.handle(j.OpFailed(read.op, KioskError("pcsc: PACE failed")))
    assert jr.step is j.Step.CONFIRM_IDENTITY and jr.identity.assurance is Assurance.QR
    assert jr.notice == "ui.notice.chip_failed"


def test_chip_of_another_person_is_refused():
    jr = new_journey()
    jr.handle(j.QrScanned(QR_AN))
    read = only(jr.handle(j.CardInserted()), j.ReadChip)
    jr.handle(j.OpDone(read.op, chip("ngoc")))
    assert jr.step is j.Step.ERROR and jr.error.key == "ui.error.card_mismatch"


def test_typed_id_is_checked_before_anything_else():
    jr = new_journey()
    jr.handle(j.OpenKeypad())
    assert jr.handle(j.IdTyped("12345")) == [] and jr.notice == "error.invalid_id"
    assert jr.step is j.Step.KEYPAD
    jr.handle(j.IdTyped("001093012345"))
    assert jr.step is j.Step.CONFIRM_IDENTITY and jr.identity.assurance is Assurance.TYPED
    assert jr.identity.full_name is None


def test_typed_id_with_card_on_reader_reads_the_chip_and_a_wrong_key_is_an_error():
    jr = new_journey()
    jr.handle(j.CardInserted())
    jr.handle(j.OpenKeypad())
    read = only(jr.handle(j.IdTyped("001093012346")), j.ReadChip)
    jr.handle(j.OpFailed(read.op, KioskError("PACE", key="error.generic")))
    assert jr.step is j.Step.ERROR and j.TYPE_ID in jr.error.actions
    assert only(jr.handle(j.Retry()), j.ReadChip).key.can == "012346"


def test_walk_in_chooses_department_and_declares_pregnancy():
    jr = new_journey()
    jr.handle(j.QrScanned(QR_AN.replace("Nam", "Nữ")))
    look = only(jr.handle(j.Confirm()), j.LookupPatient)
    jr.handle(j.OpDone(look.op, PatientLookup([])))
    assert jr.step is j.Step.DEPARTMENT and jr.notice is None
    assert jr.handle(j.ChooseDepartment("XYZ")) is not None and jr.step is j.Step.DEPARTMENT
    jr.handle(j.ChooseDepartment("SAN"))
    assert jr.step is j.Step.PRIORITY and Priority.PREGNANT in jr.declarable_priorities()
    check = only(jr.handle(j.DeclarePriority(Priority.PREGNANT)), j.CheckIn)
    assert check.request.department_code == "SAN" and check.request.declared_priority is Priority.PREGNANT


def test_men_are_not_offered_pregnancy():
    jr = new_journey()
    jr.handle(j.QrScanned(QR_AN))
    assert jr.declarable_priorities() == (Priority.DISABILITY,)


def test_pregnancy_is_offered_only_where_the_card_makes_it_possible():
    """A girl of 7 or a woman of 70 is not offered "Phụ nữ có thai"; a woman of 30 is; a typed ID
    (no sex, no date of birth) is offered every choice."""
    from kiosk.domain import may_be_pregnant

    day = TODAY
    assert not may_be_pregnant("female", date(day.year - 7, 1, 1), day)
    assert may_be_pregnant("female", date(day.year - 30, 1, 1), day)
    assert not may_be_pregnant("female", date(day.year - 70, 1, 1), day)
    assert not may_be_pregnant("male", date(day.year - 30, 1, 1), day)
    assert may_be_pregnant(None, None, day)  # a typed ID tells nothing: the patient chooses
    jr = new_journey()
    jr.handle(j.QrScanned(QR_AN.replace("Nam", "Nữ")))
    girl = dataclasses.replace(jr.identity, birth_date=date(TODAY.year - 7, 1, 1))
    jr.identity = girl
    assert jr.declarable_priorities() == (Priority.DISABILITY,)
    jr.identity = dataclasses.replace(girl, birth_date=date(TODAY.year - 30, 1, 1))
    assert Priority.PREGNANT in jr.declarable_priorities()


def test_age_rule_skips_the_priority_question():
    jr = new_journey()
    jr.handle(j.CardInserted())
    jr.handle(j.OpenKeypad())
    read = only(jr.handle(j.IdTyped(demo_person("hung")["citizen_id"])), j.ReadChip)
    jr.handle(j.OpDone(read.op, chip("hung")))  # born 1948: 75+
    look = only(jr.handle(j.Confirm()), j.LookupPatient)
    jr.handle(j.OpDone(look.op, PatientLookup([])))
    check = only(jr.handle(j.ChooseDepartment("NOI")), j.CheckIn)
    assert check.request.declared_priority is Priority.ELDERLY_75


def test_card_removed_mid_read_then_put_back():
    jr = new_journey()
    jr.handle(j.CardInserted())
    read = only(jr.handle(j.QrScanned(QR_AN)), j.ReadChip)
    jr.handle(j.CardRemoved())
    assert jr.step is j.Step.ERROR and jr.error.key == "ui.error.card_removed"
    assert jr.handle(j.OpDone(read.op, chip())) == [] and jr.step is j.Step.ERROR  # late result ignored
    again = only(jr.handle(j.CardInserted()), j.ReadChip)
    jr.handle(j.OpDone(again.op, chip()))
    assert jr.step is j.Step.CONFIRM_IDENTITY


def test_his_offline_during_lookup_goes_to_departments_and_marks_offline():
    jr = new_journey()
    jr.handle(j.QrScanned(QR_AN))
    look = only(jr.handle(j.Confirm()), j.LookupPatient)
    jr.handle(j.OpFailed(look.op, HisUnavailable("timeout")))
    assert jr.step is j.Step.DEPARTMENT and jr.notice == "ui.notice.offline" and jr.offline
    jr.handle(j.ChooseDepartment("NOI"))
    check = only(jr.handle(j.DeclarePriority(None)), j.CheckIn)
    only(jr.handle(j.OpDone(check.op, result(offline=True))), j.PrintTicket)
    assert jr.offline


def test_known_offline_skips_the_lookup():
    jr = new_journey()
    jr.handle(j.Connectivity("offline"))
    jr.handle(j.QrScanned(QR_AN))
    assert only(jr.handle(j.Confirm()), j.LoadDepartments) and jr.step is j.Step.DEPARTMENT
    assert jr.offline and jr.notice == "ui.notice.offline"
    jr.handle(j.Connectivity("online"))
    jr.reset()
    jr.handle(j.QrScanned(QR_AN))
    only(jr.handle(j.Confirm()), j.LookupPatient)


def test_lookup_timeout_is_treated_as_offline():
    jr = new_journey()
    jr.handle(j.QrScanned(QR_AN))
    jr.handle(j.Confirm())
    assert jr.timeout_s() == jr.settings.lookup_timeout_s
    jr.handle(j.TimedOut(jr.generation))
    assert jr.step is j.Step.DEPARTMENT and jr.offline


def test_ambiguous_patient_sends_to_counter():
    jr = new_journey()
    jr.handle(j.QrScanned(QR_AN))
    look = only(jr.handle(j.Confirm()), j.LookupPatient)
    jr.handle(j.OpFailed(look.op, PatientAmbiguous("2 records")))
    assert jr.step is j.Step.ERROR and jr.error.actions == (j.HOME,)


def test_check_in_retry_reuses_the_same_checkin_id():
    jr = new_journey()
    jr.handle(j.QrScanned(QR_AN))
    look = only(jr.handle(j.Confirm()), j.LookupPatient)
    jr.handle(j.OpDone(look.op, PatientLookup([])))
    jr.handle(j.ChooseDepartment("NOI"))
    first = only(jr.handle(j.DeclarePriority(None)), j.CheckIn)
    jr.handle(j.OpFailed(first.op, HisUnavailable("502")))
    assert jr.step is j.Step.ERROR and j.RETRY in jr.error.actions
    second = only(jr.handle(j.Retry()), j.CheckIn)
    assert second.request.checkin_id == first.request.checkin_id and second.op != first.op


def test_department_required_from_service_returns_to_department_choice():
    jr = new_journey()
    jr.handle(j.QrScanned(QR_AN))
    look = only(jr.handle(j.Confirm()), j.LookupPatient)
    appt = Appointment("a1", "p1", datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc), "booked", department_code="NOI")
    jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")], {"p1": [appt]})))
    jr.handle(j.Confirm())
    check = only(jr.handle(j.DeclarePriority(None)), j.CheckIn)
    jr.handle(j.OpFailed(check.op, DepartmentRequired()))
    assert jr.step is j.Step.DEPARTMENT and jr.notice == "error.department_required"


def test_paper_out_skips_printing_and_reprints_when_paper_is_back():
    jr = new_journey()
    jr.handle(j.PrinterStatus(PRINTER_PAPER_OUT))
    jr.handle(j.QrScanned(QR_AN))
    look = only(jr.handle(j.Confirm()), j.LookupPatient)
    jr.handle(j.OpDone(look.op, PatientLookup([])))
    jr.handle(j.ChooseDepartment("NOI"))
    check = only(jr.handle(j.DeclarePriority(None)), j.CheckIn)
    assert jr.handle(j.OpDone(check.op, result())) == []
    assert jr.step is j.Step.DONE and not jr.printed and jr.notice == "ui.done.not_printed"
    jr.handle(j.PrinterStatus(PRINTER_OK))
    only(jr.handle(j.Retry()), j.PrintTicket)


def test_idle_timeout_resets_and_drops_personal_data():
    jr = new_journey(idle_timeout_s=30)
    jr.handle(j.QrScanned(QR_AN))
    ref = weakref.ref(jr.identity)
    stale = jr.generation - 1
    assert jr.handle(j.TimedOut(stale)) == [] and jr.step is j.Step.CONFIRM_IDENTITY
    assert jr.timeout_s() == 30
    jr.handle(j.SetLanguage("en"))
    jr.handle(j.TimedOut(jr.generation))
    gc.collect()
    assert jr.step is j.Step.WELCOME and jr.identity is None and ref() is None
    assert jr.language == "vi" and jr.timeout_s() is None
    assert jr.departments == DEPTS  # non-personal reference data survives


def test_variant_qr_layouts_are_accepted():
    jr = new_journey()
    jr.handle(j.QrScanned("\ufeff001093012345|NGUYỄN VĂN AN|05/01/1993|Nam|Hà Nội|10/04/2021\r\n"))
    assert jr.step is j.Step.CONFIRM_IDENTITY and jr.identity.birth_date == date(1993, 1, 5)
    assert jr.key.birth_date == date(1993, 1, 5)  # BAC data computed from the QR


def test_unknown_qr_codes_give_a_hint():
    jr = new_journey()
    jr.handle(j.QrScanned("https://example.com"))
    assert jr.step is j.Step.WELCOME and jr.notice == "error.qr_unsupported"


def test_appointment_qr_asks_the_his_whose_booking_it_is_then_confirms():
    from dataclasses import replace as dc_replace

    jr = new_journey()
    find = only(jr.handle(j.QrScanned("LH2611252345")), j.FindBooking)
    assert jr.step is j.Step.FINDING_BOOKING and find.code == "LH2611252345"
    booked = dc_replace(chip(), source=IdentitySource.APPOINTMENT_QR, assurance=Assurance.QR)
    assert jr.handle(j.OpDone(find.op, booked)) == []
    assert jr.step is j.Step.CONFIRM_IDENTITY and jr.identity.source is IdentitySource.APPOINTMENT_QR
    only(jr.handle(j.Confirm()), j.LookupPatient)


def test_unusable_or_unreachable_booking_points_to_the_card_qr_or_keypad():
    from kiosk.errors import BookingNotUsable

    jr = new_journey()
    find = only(jr.handle(j.QrScanned("APPT:LH2611252345")), j.FindBooking)
    jr.handle(j.OpFailed(find.op, BookingNotUsable("x", key="error.booking_not_today")))
    assert jr.step is j.Step.ERROR and jr.error.key == "error.booking_not_today"
    assert jr.error.actions == (j.USE_QR, j.TYPE_ID, j.HOME)
    find = only(jr.handle(j.QrScanned("LH2611252345")), j.FindBooking)
    jr.handle(j.OpFailed(find.op, HisUnavailable("down")))
    assert jr.error.key == "ui.error.booking_offline"
    jr.reset()
    jr.his_online = False
    assert jr.handle(j.QrScanned("LH2611252345")) == [] and jr.error.key == "ui.error.booking_offline"


def test_a_retried_check_in_keeps_its_id_and_says_it_is_a_retry():
    jr = new_journey()
    jr.handle(j.QrScanned(QR_AN))
    look = only(jr.handle(j.Confirm()), j.LookupPatient)
    jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")])))
    jr.handle(j.ChooseDepartment("NOI"))
    first = jr.handle(j.DeclarePriority(None))[0]
    assert not first.request.is_retry
    jr.handle(j.OpFailed(first.op, HisUnavailable("lost")))
    again = only(jr.handle(j.Retry()), j.CheckIn)
    assert again.request.is_retry and again.request.checkin_id == first.request.checkin_id


class FakeServices:
    """Just enough of KioskServices for ``perform``."""

    card_reader = None
    printer = None

    def __init__(self):
        self.his = self

    def lookup_patient(self, citizen_id, day):
        raise HisUnavailable("connect timeout")

    def departments(self):
        return list(DEPTS)

    def waiting_counts(self):
        raise RuntimeError("no counts")


def test_perform_turns_results_and_failures_into_events():
    services = FakeServices()
    failed = j.perform(j.LookupPatient(7, "001093012345", TODAY), services)
    assert isinstance(failed, j.OpFailed) and failed.op == 7 and isinstance(failed.error, HisUnavailable)
    loaded = j.perform(j.LoadDepartments(), services)
    assert isinstance(loaded, j.DepartmentsLoaded) and loaded.departments == DEPTS and loaded.waiting is None
    no_reader = j.perform(j.ReadChip(3, j.AccessKey.from_citizen_id("001093012345")), services)
    assert no_reader.error.patient_message_key == "ui.error.no_reader"


def test_out_of_service_stays_on_the_error_screen_without_actions():
    jr = new_journey()
    jr.handle(j.OutOfService())
    assert jr.step is j.Step.ERROR and jr.error.actions == () and jr.timeout_s() is None
    jr.handle(j.GoHome())
    assert jr.step is j.Step.ERROR and jr.error.key == "error.out_of_service"


def test_the_check_in_reuses_the_lookup_the_appointment_screen_made():
    jr = new_journey()
    jr.handle(j.QrScanned(QR_AN))
    look = only(jr.handle(j.Confirm()), j.LookupPatient)
    lookup = PatientLookup([Patient("p1")])
    jr.handle(j.OpDone(look.op, lookup))
    jr.handle(j.ChooseDepartment("NOI"))
    check = only(jr.handle(j.DeclarePriority(None)), j.CheckIn)
    assert check.request.lookup is lookup
    jr.reset()
    assert jr.lookup is None  # personal data goes with the patient
