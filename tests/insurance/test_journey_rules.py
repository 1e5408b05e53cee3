"""The BHYT check in the Qt-free journey and the rules of kiosk.insurance.rules:
when the check starts (chip/QR at once, typed ID and patient code from the
HIS record), how long the patient waits, what an invalid card leads to
(counter: stop, nothing personal kept; fee: one tap on), and what the
check-in request carries."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from kiosk.demo_data import demo_person, person_identity
from kiosk.domain import Appointment, Assurance, ClinicRoom, Department, IdentitySource, Patient, VisitCoverage
from kiosk.identity.patient_code import PatientCodeMatch
from kiosk.insurance.card_check import CoverageStatus, InsuranceCheck, check_from_record, no_answer
from kiosk.insurance.rules import bills_visit, coverage_status, is_invalid, needs_recheck, shown_status, ticket_status
from kiosk.journey import machine as j
from kiosk.ports import PatientLookup

TODAY = date(2026, 11, 25)
AN, NGOC = demo_person("an"), demo_person("ngoc")
QR_AN = "|".join([AN["citizen_id"], AN["old_id"], AN["full_name"], "05011993", "Nam", AN["address"], "10042021"])
DEPTS = (Department("NOI", "Nội khoa", (ClinicRoom("P101", "Phòng khám Nội 1", "Tầng 1"),)),)
APPT = Appointment("a1", "p1", datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc), "booked", department_code="NOI",
                   room_code="P101")
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)


def answer(status: CoverageStatus, *, about_card: bool = True, new_card: bool = False, matches=True,
           code: str = "000") -> InsuranceCheck:
    key = {CoverageStatus.VALID: "coverage.valid", CoverageStatus.EXPIRED: "coverage.expired",
           CoverageStatus.NOT_FOUND: "coverage.not_found", CoverageStatus.MISMATCH: "coverage.mismatch",
           CoverageStatus.REFUSED: "coverage.stopped"}.get(status, "coverage.unavailable")
    return InsuranceCheck(status=status, result_code=code, message_key=key, staff_reason="test", checked_at=NOW,
                          about_card=about_card, card_number="DN4272793012345", valid_from=date(2026, 1, 1),
                          valid_to=date(2026, 12, 31), primary_care_facility="27001", facility_matches=matches,
                          new_card=new_card)


VALID, EXPIRED = answer(CoverageStatus.VALID), answer(CoverageStatus.EXPIRED, code="010")
UNAVAILABLE = no_answer(CoverageStatus.UNAVAILABLE, "no answer within 15 s", NOW)


def new_journey(**kw) -> j.Journey:
    journey = j.Journey(j.Settings(kiosk_id="K1", check_insurance=True, **kw), today=lambda: TODAY)
    journey.handle(j.DepartmentsLoaded(DEPTS, {"NOI": 4}))
    return journey


def effect(effects, kind):
    found = [e for e in effects if isinstance(e, kind)]
    assert len(found) == 1, effects
    return found[0]


def none_of(effects, kind) -> bool:
    return not any(isinstance(e, kind) for e in effects)


def test_a_qr_starts_the_card_check_beside_the_lookup_and_the_visit_shows_when_both_are_in():
    jr = new_journey(insurance_timeout_s=7.0)
    effects = jr.handle(j.QrScanned(QR_AN))
    look, ins = effect(effects, j.LookupPatient), effect(effects, j.CheckInsurance)
    assert (ins.card_number, ins.full_name, ins.birth_date, ins.timeout_s) == (
        AN["citizen_id"], AN["full_name"], date(1993, 1, 5), 7.0)
    assert jr.insurance_shown == "checking"
    assert jr.handle(j.OpDone(ins.op, VALID)) == [] and jr.step is j.Step.LOOKING_UP  # the lookup is not back
    jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")], {"p1": [APPT]})))
    assert jr.step is j.Step.APPOINTMENT and jr.insurance_shown == "valid"
    request = effect(jr.handle(j.Confirm()), j.CheckIn).request
    assert request.coverage == VisitCoverage(VALID, AN["citizen_id"], AN["full_name"], date(1993, 1, 5), False)
    assert ticket_status(request.coverage) == "valid" and bills_visit(request.coverage)


def test_a_typed_id_is_checked_with_the_name_and_birth_date_of_the_his_record():
    jr = new_journey()
    effects = jr.handle(j.OpenKeypad()) + jr.handle(j.IdTyped(AN["citizen_id"]))
    look = effect(effects, j.LookupPatient)
    assert none_of(effects, j.CheckInsurance)  # no name yet
    record = Patient("p1", AN["citizen_id"], AN["full_name"], date(1993, 1, 5))
    ins = effect(jr.handle(j.OpDone(look.op, PatientLookup([record]))), j.CheckInsurance)
    assert (ins.full_name, ins.birth_date) == (AN["full_name"], date(1993, 1, 5))
    assert jr.step is j.Step.LOOKING_UP
    jr.handle(j.OpDone(ins.op, VALID))
    assert jr.step is j.Step.DEPARTMENT and jr.coverage is VALID


def test_a_typed_id_unknown_to_the_his_cannot_be_checked_and_the_ticket_says_not_checked():
    jr = new_journey()
    jr.handle(j.OpenKeypad())
    look = effect(jr.handle(j.IdTyped(AN["citizen_id"])), j.LookupPatient)
    assert none_of(jr.handle(j.OpDone(look.op, PatientLookup([]))), j.CheckInsurance)
    assert jr.step is j.Step.DEPARTMENT
    request = effect(jr.handle(j.ChooseDepartment("NOI")), j.CheckIn).request
    assert request.coverage.check is None and request.coverage.full_name is None
    assert ticket_status(request.coverage) == "unchecked"


def test_a_patient_code_is_checked_with_the_record_while_the_lookup_is_already_known():
    jr = new_journey()
    find = effect(jr.handle(j.QrScanned("BN-012345")), j.FindPatient)
    ident = person_identity(AN, IdentitySource.PATIENT_CODE, Assurance.TYPED)
    effects = jr.handle(j.OpDone(find.op, PatientCodeMatch(ident, PatientLookup([Patient("p1")], {"p1": [APPT]}))))
    ins = effect(effects, j.CheckInsurance)
    assert none_of(effects, j.LookupPatient) and jr.step is j.Step.LOOKING_UP
    jr.handle(j.OpDone(ins.op, VALID))
    assert jr.step is j.Step.APPOINTMENT


def test_a_slow_gateway_is_not_waited_for_beyond_the_step_and_its_late_answer_is_ignored():
    jr = new_journey()
    effects = jr.handle(j.QrScanned(QR_AN))
    look, ins = effect(effects, j.LookupPatient), effect(effects, j.CheckInsurance)
    jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")])))
    assert jr.step is j.Step.LOOKING_UP and jr.timeout_s() == jr.settings.lookup_timeout_s
    jr.handle(j.TimedOut(jr.generation))
    assert jr.step is j.Step.DEPARTMENT and jr.insurance_shown == "unchecked"
    jr.handle(j.OpDone(ins.op, EXPIRED))  # too late: the queued recheck will find it
    assert jr.step is j.Step.DEPARTMENT and jr.coverage is None
    request = effect(jr.handle(j.ChooseDepartment("NOI")), j.CheckIn).request
    assert needs_recheck(request.coverage.check) and request.coverage.full_name == AN["full_name"]


def test_the_gateway_s_own_timeout_answer_goes_on_with_not_checked():
    jr = new_journey()
    effects = jr.handle(j.QrScanned(QR_AN))
    jr.handle(j.OpDone(effect(effects, j.LookupPatient).op, PatientLookup([Patient("p1")])))
    jr.handle(j.OpDone(effect(effects, j.CheckInsurance).op, UNAVAILABLE))
    assert jr.step is j.Step.DEPARTMENT and jr.insurance_shown == "unchecked"


@pytest.mark.parametrize("bad", [EXPIRED, answer(CoverageStatus.NOT_FOUND, code="050"),
                                 answer(CoverageStatus.MISMATCH, code="070"),
                                 answer(CoverageStatus.REFUSED, code="110")])
def test_an_invalid_card_with_counter_stops_the_journey_and_keeps_nothing_personal(bad):
    jr = new_journey(insurance_on_invalid="counter")
    jr.handle(j.SetLanguage("en"))
    effects = jr.handle(j.QrScanned(QR_AN))
    jr.handle(j.OpDone(effect(effects, j.CheckInsurance).op, bad))
    jr.handle(j.OpDone(effect(effects, j.LookupPatient).op, PatientLookup([Patient("p1")], {"p1": [APPT]})))
    assert jr.step is j.Step.INSURANCE and jr.insurance_message == bad.message_key
    assert jr.identity is None and jr.lookup is None and jr.coverage is None and jr.appointment is None
    assert jr.language == "en"  # the patient's language stays for the screen that tells them where to go
    assert jr.handle(j.AcceptFee()) == [] and jr.step is j.Step.INSURANCE  # no fee-paying visit here
    jr.handle(j.TimedOut(jr.generation))
    assert jr.step is j.Step.WELCOME


def test_an_expired_card_with_fee_takes_one_tap_and_the_request_says_fee_paying():
    jr = new_journey(insurance_on_invalid="fee")
    effects = jr.handle(j.QrScanned(QR_AN))
    jr.handle(j.OpDone(effect(effects, j.LookupPatient).op, PatientLookup([Patient("p1")], {"p1": [APPT]})))
    jr.handle(j.OpDone(effect(effects, j.CheckInsurance).op, EXPIRED))
    assert jr.step is j.Step.INSURANCE and jr.identity is not None
    jr.handle(j.AcceptFee())
    assert jr.step is j.Step.APPOINTMENT and jr.insurance_shown == "fee"
    request = effect(jr.handle(j.Confirm()), j.CheckIn).request
    assert request.coverage.fee_paying and ticket_status(request.coverage) == "fee"
    assert not bills_visit(request.coverage) and coverage_status(request.coverage.check) == "cancelled"


def test_offline_the_card_is_still_checked_and_the_walk_in_goes_on_from_the_cache():
    jr = new_journey()
    jr.handle(j.Connectivity("offline"))
    effects = jr.handle(j.QrScanned(QR_AN))
    ins = effect(effects, j.CheckInsurance)
    assert none_of(effects, j.LookupPatient) and jr.step is j.Step.LOOKING_UP
    jr.handle(j.OpDone(ins.op, VALID))
    assert jr.step is j.Step.DEPARTMENT and jr.offline and jr.insurance_shown == "valid"


def test_step_by_step_checks_the_card_on_the_confirm_screen_and_applies_the_rule_after_confirm():
    jr = new_journey(flow=j.FLOW_STEP_BY_STEP, insurance_on_invalid="fee")
    ins = effect(jr.handle(j.QrScanned(QR_AN)), j.CheckInsurance)
    assert jr.step is j.Step.CONFIRM_IDENTITY and jr.insurance_shown == "checking"
    jr.handle(j.OpDone(ins.op, EXPIRED))
    assert jr.step is j.Step.CONFIRM_IDENTITY and jr.insurance_shown == "expired"  # shown, not acted on yet
    look = effect(jr.handle(j.Confirm()), j.LookupPatient)
    jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")])))
    assert jr.step is j.Step.INSURANCE


def test_another_person_s_identity_forgets_the_first_card_check():
    jr = new_journey()
    effects = jr.handle(j.QrScanned(QR_AN))
    jr.handle(j.OpDone(effect(effects, j.CheckInsurance).op, VALID))
    jr.handle(j.OpFailed(effect(effects, j.LookupPatient).op, RuntimeError("boom")))
    assert jr.step is j.Step.ERROR
    qr_ngoc = "|".join([NGOC["citizen_id"], "", NGOC["full_name"], "22071985", "Nữ", NGOC["address"], "15012022"])
    ins = effect(jr.handle(j.QrScanned(qr_ngoc)), j.CheckInsurance)
    assert ins.card_number == NGOC["citizen_id"] and jr.coverage is None


def test_rules_for_every_answer():
    new = answer(CoverageStatus.VALID, new_card=True, code="003")
    elsewhere = answer(CoverageStatus.VALID, matches=False)
    credentials = no_answer(CoverageStatus.REFUSED, "staff CCCD not registered", NOW, result_code="054")
    assert [shown_status(c) for c in (VALID, new, elsewhere, EXPIRED, UNAVAILABLE, credentials, None)] == [
        "valid", "new_card", "valid_elsewhere", "expired", "unchecked", "unchecked", "unchecked"]
    assert shown_status(None, pending=True) == "checking" and shown_status(EXPIRED, fee_paying=True) == "fee"
    assert [is_invalid(c) for c in (VALID, EXPIRED, UNAVAILABLE, credentials, None)] == [False, True, False, False,
                                                                                          False]
    assert [coverage_status(c) for c in (VALID, new, EXPIRED, answer(CoverageStatus.REFUSED, code="110"),
                                         answer(CoverageStatus.NOT_FOUND, code="050"),
                                         answer(CoverageStatus.MISMATCH, code="060"), UNAVAILABLE)] == [
        "active", "active", "cancelled", "cancelled", None, None, None]
    assert ticket_status(None) is None
    assert check_from_record(new.to_record()) == new  # what the outbox and the recheck queue keep


def test_the_voice_says_the_card_check_and_what_the_insurance_screen_offers():
    from kiosk.journey.spoken import spoken_text

    jr = new_journey(insurance_on_invalid="fee")
    effects = jr.handle(j.QrScanned(QR_AN))
    jr.handle(j.OpDone(effect(effects, j.CheckInsurance).op, EXPIRED))
    jr.handle(j.OpDone(effect(effects, j.LookupPatient).op, PatientLookup([Patient("p1")])))
    said = spoken_text(jr)
    assert "Thẻ bảo hiểm y tế đã hết hạn" in said and "Khám dịch vụ" in said
    jr.handle(j.AcceptFee())
    assert "Bạn khám dịch vụ, không dùng bảo hiểm y tế." in spoken_text(jr)
    jr.handle(j.SetLanguage("en"))
    assert "fee-paying patient" in spoken_text(jr)
    counter = new_journey()
    effects = counter.handle(j.QrScanned(QR_AN))
    counter.handle(j.OpDone(effect(effects, j.LookupPatient).op, PatientLookup([Patient("p1")])))
    counter.handle(j.OpDone(effect(effects, j.CheckInsurance).op, answer(CoverageStatus.NOT_FOUND, code="050")))
    said = spoken_text(counter)
    assert "Không tìm thấy thẻ bảo hiểm y tế" in said and "quầy tiếp đón" in said and "Chạm Xong" in said
    assert AN["full_name"] not in said and "Nguyễn" not in said  # nothing personal is kept, nor said
