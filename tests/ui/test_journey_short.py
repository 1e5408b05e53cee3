"""The short flow of the Qt-free journey (kiosk.flow = "short", the default),
the checks side by side, the patient code, the spoken sentences and the tap
counts of every journey (kiosk.journey.walker)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from kiosk.demo_data import demo_patient_code, demo_person, person_identity
from kiosk.domain import Appointment, Assurance, ClinicRoom, Department, IdentitySource, Patient, Priority
from kiosk.errors import HisUnavailable, KioskError, PatientCodeNotUsable
from kiosk.identity.patient_code import PatientCodeMatch
from kiosk.journey import machine as j
from kiosk.journey.spoken import spoken_digits, spoken_name, spoken_text
from kiosk.journey.walker import FEE_JOURNEY, INSURANCE_JOURNEY, WalkError, World, scripts, walk, walk_all
from kiosk.ports import PatientLookup

TODAY = date(2026, 11, 25)
AN = demo_person("an")
QR_AN = "|".join([AN["citizen_id"], AN["old_id"], AN["full_name"], "05011993", "Nam", AN["address"], "10042021"])
DEPTS = (Department("NOI", "Nội khoa", (ClinicRoom("P101", "Phòng khám Nội 1", "Tầng 1"),), name_en="Internal"),
         Department("SAN", "Sản phụ khoa", (ClinicRoom("P301", "Phòng khám Sản", "Tầng 3"),)))
APPT = Appointment("a1", "p1", datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc), "booked", department_code="NOI",
                   room_code="P101")


def new_journey(**kw) -> j.Journey:
    journey = j.Journey(j.Settings(kiosk_id="K1", **kw), today=lambda: TODAY)
    journey.handle(j.DepartmentsLoaded(DEPTS, {"NOI": 4, "SAN": 0}))
    return journey


def effect(effects, kind):
    found = [e for e in effects if isinstance(e, kind)]
    assert len(found) == 1, effects
    return found[0]


def test_qr_is_looked_up_at_once_and_one_tap_checks_the_booked_patient_in():
    jr = new_journey()
    look = effect(jr.handle(j.QrScanned(QR_AN)), j.LookupPatient)
    assert jr.step is j.Step.LOOKING_UP and look.citizen_id == AN["citizen_id"]
    jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")], {"p1": [APPT]})))
    assert jr.step is j.Step.APPOINTMENT and jr.identity.assurance is Assurance.QR
    jr.handle(j.TogglePriority(Priority.PREGNANT))
    assert jr.priority is None  # a man is not offered pregnancy
    jr.handle(j.TogglePriority(Priority.DISABILITY))
    jr.handle(j.TogglePriority(Priority.DISABILITY))  # chosen, then un-chosen
    jr.handle(j.TogglePriority(Priority.DISABILITY))
    check = effect(jr.handle(j.Confirm()), j.CheckIn)
    assert check.request.declared_priority is Priority.DISABILITY and check.request.department_code is None


def test_chip_identity_goes_straight_to_the_lookup_and_the_photo_arrives_on_the_visit_screen():
    jr = new_journey(read_photo=True)  # privacy.read_photo (default off)
    jr.handle(j.CardInserted())
    read = effect(jr.handle(j.IdTyped(AN["citizen_id"])), j.ReadChip)  # typed on the card screen itself
    effects = jr.handle(j.OpDone(read.op, person_identity(AN)))
    look, photo = effect(effects, j.LookupPatient), effect(effects, j.ReadPhoto)
    jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")])))
    assert jr.step is j.Step.DEPARTMENT
    jr.handle(j.OpDone(photo.op, b"\xff\xd8jpeg"))
    assert jr.identity.photo == b"\xff\xd8jpeg" and jr.step is j.Step.DEPARTMENT
    check = effect(jr.handle(j.ChooseDepartment("NOI")), j.CheckIn)  # no priority screen
    assert check.request.department_code == "NOI"


def test_a_card_laid_on_the_visit_screen_upgrades_the_identity_and_comes_back_to_it():
    jr = new_journey()
    look = effect(jr.handle(j.QrScanned(QR_AN)), j.LookupPatient)
    jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")])))
    jr.handle(j.TogglePriority(Priority.DISABILITY))
    read = effect(jr.handle(j.CardInserted()), j.ReadChip)
    effects = jr.handle(j.OpDone(read.op, person_identity(AN)))
    assert not any(isinstance(e, j.LookupPatient) for e in effects)  # the lookup is reused
    assert jr.step is j.Step.DEPARTMENT and jr.identity.source is IdentitySource.CHIP
    assert jr.priority is Priority.DISABILITY


def test_patient_code_typed_is_checked_then_found_and_reused_by_the_check_in():
    jr = new_journey()
    jr.handle(j.OpenKeypad(j.PATIENT_CODE))
    assert jr.step is j.Step.KEYPAD and jr.keypad_field == j.PATIENT_CODE
    assert jr.handle(j.IdTyped(AN["citizen_id"])) == []  # the keypad is typing a code, not an ID
    assert jr.handle(j.PatientCodeTyped("12")) == [] and jr.notice == "error.invalid_patient_code"
    find = effect(jr.handle(j.PatientCodeTyped("012345")), j.FindPatient)
    assert find.code == demo_patient_code(AN) and jr.step is j.Step.FINDING_PATIENT
    ident = person_identity(AN, IdentitySource.PATIENT_CODE, Assurance.TYPED)
    lookup = PatientLookup([Patient("p1")], {"p1": [APPT]})
    assert jr.handle(j.OpDone(find.op, PatientCodeMatch(ident, lookup))) == []  # no second lookup
    assert jr.step is j.Step.APPOINTMENT
    assert effect(jr.handle(j.Confirm()), j.CheckIn).request.lookup is lookup


def test_scanned_patient_code_and_its_failures_say_what_to_do_next():
    jr = new_journey()
    find = effect(jr.handle(j.QrScanned("BN-999999")), j.FindPatient)
    jr.handle(j.OpFailed(find.op, PatientCodeNotUsable("none")))
    assert jr.step is j.Step.ERROR and jr.error.key == "error.patient_code_not_found"
    assert jr.error.actions == (j.USE_QR, j.TYPE_ID, j.HOME)
    find = effect(jr.handle(j.QrScanned("BN-999998")), j.FindPatient)
    jr.handle(j.OpFailed(find.op, HisUnavailable("down")))
    assert jr.error.key == "ui.error.patient_code_offline"
    jr.reset()
    jr.handle(j.Connectivity("offline"))
    assert jr.handle(j.QrScanned("BN-012345")) == [] and jr.error.key == "ui.error.patient_code_offline"


def test_the_insurance_check_runs_beside_the_lookup_and_a_failure_does_not_stop_the_check_in():
    jr = new_journey(check_insurance=True)
    effects = jr.handle(j.QrScanned(QR_AN))
    look, ins = effect(effects, j.LookupPatient), effect(effects, j.CheckInsurance)
    assert ins.card_number == AN["citizen_id"] and ins.full_name == AN["full_name"]
    assert jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")]))) == []  # waits for the card check
    assert jr.step is j.Step.LOOKING_UP
    jr.handle(j.OpFailed(ins.op, KioskError("gateway")))
    assert jr.step is j.Step.DEPARTMENT and jr.coverage is None
    jr2 = new_journey(check_insurance=True)
    effects = jr2.handle(j.QrScanned(QR_AN))
    valid = World().card_check("an")
    jr2.handle(j.OpDone(effect(effects, j.CheckInsurance).op, valid))
    jr2.handle(j.OpDone(effect(effects, j.LookupPatient).op, PatientLookup([])))
    assert jr2.step is j.Step.DEPARTMENT and jr2.coverage is valid


def test_speech_lengthens_the_timeouts_of_the_screens_a_patient_reads():
    jr = new_journey(idle_timeout_s=30, speech_timeout_factor=2.0)
    jr.handle(j.OpenKeypad())
    assert jr.timeout_s() == 30
    jr.handle(j.SetSpeech(True))
    assert jr.timeout_s() == 60
    jr.handle(j.GoHome())
    assert not jr.speech and not jr.large_text  # each patient starts with the kiosk's defaults


def test_spoken_text_reads_the_screen_and_never_a_full_id_number():
    jr = new_journey()
    look = effect(jr.handle(j.QrScanned(QR_AN)), j.LookupPatient)
    jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")], {"p1": [APPT]})))
    said = spoken_text(jr, lambda d: d.astimezone(timezone.utc), intro=True)
    assert said.startswith("Hướng dẫn bằng giọng nói đã bật")
    assert "Nguyễn An" in said and "VĂN" not in said and "ngày 5 tháng 1 năm 1993" in said
    assert "2 3 4 5" in said and AN["citizen_id"] not in said and "001093" not in said.replace(" ", "")
    assert "2 giờ" in said and "Nội khoa" in said and "Phòng khám Nội 1, Tầng 1" in said
    assert "người khuyết tật" in said and "Đăng ký khám" in said
    jr.handle(j.SetLanguage("en"))
    said_en = spoken_text(jr)
    assert "Internal" in said_en and "Born 5 January 1993" in said_en and "Check in" in said_en
    jr.reset()
    look = effect(jr.handle(j.QrScanned(QR_AN)), j.LookupPatient)
    jr.handle(j.OpDone(look.op, PatientLookup([])))
    said = spoken_text(jr)
    assert "Nội khoa, 4 người đang chờ" in said and "Sản phụ khoa, 0 người đang chờ" in said


def test_spoken_helpers():
    assert spoken_name("NGUYỄN VĂN AN") == "Nguyễn An" and spoken_name("ĐẶNG THỊ HỒNG NHUNG") == "Đặng Nhung"
    assert spoken_digits("012") == "0 1 2" and spoken_digits("K1-005") == "K 1, 0 0 5"
    jr = new_journey()
    assert "Đặt thẻ căn cước lên đầu đọc" in spoken_text(jr)
    jr.handle(j.OpenKeypad())
    assert "Đã nhập 7 số" in spoken_text(jr, digits_typed=7)


def test_every_journey_counts_its_taps_and_screens_and_the_short_flow_needs_fewer():
    short = {w.journey: w for w in walk_all(j.FLOW_SHORT)}
    before = {w.journey: w for w in walk_all(j.FLOW_STEP_BY_STEP)}
    assert set(short) == set(before)
    chip = short["booked, chip (card, then its QR)"]
    assert chip.taps == 1 and chip.ticket.booked  # target: ≤ 2 taps after laying the card
    assert short["booked, chip (card, then the ID typed)"].taps == 2
    assert short[INSURANCE_JOURNEY].taps == 1 and short[INSURANCE_JOURNEY].screens == chip.screens
    assert short[INSURANCE_JOURNEY].ticket.insurance_status == "valid"
    fee = short[FEE_JOURNEY]  # an expired card accepted as a fee-paying visit: one tap more than the walk-in
    assert fee.taps == short["walk-in, QR"].taps + 1 and fee.ticket.insurance_status == "fee"
    for name, walk_ in short.items():
        assert walk_.taps < before[name].taps, name
        assert walk_.screen_count < before[name].screen_count, name
    assert before["booked, chip (card, then its QR)"].taps == 3  # confirm, check in, "no priority"
    assert short["walk-in, QR, pregnant"].ticket.priority is Priority.PREGNANT


def test_a_script_that_does_not_fit_the_journey_fails_loudly():
    key, script = scripts(j.FLOW_STEP_BY_STEP)["booked, QR only"]
    with pytest.raises(WalkError, match="expected the confirm_identity screen"):
        walk("old script on the short flow", script, key, flow=j.FLOW_SHORT)
