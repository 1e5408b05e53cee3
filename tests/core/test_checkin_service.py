from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.checkin.online import CheckInService, pick_room
from kiosk.clock import FixedClock
from kiosk.config.loader import Config
from kiosk.demo_data import demo_person, person_identity
from kiosk.domain import Appointment, Assurance, Identity, IdentitySource, Priority
from kiosk.errors import DepartmentRequired, InvalidIdentity, PatientAmbiguous, UnknownDepartment
from tests.core.fake_his import DEPARTMENTS, FakeHis
from tests.helpers import request_for

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 25, 8, 15, tzinfo=TZ)


@pytest.fixture
def his():
    return FakeHis()


@pytest.fixture
def service(his):
    return CheckInService(his, FixedClock(NOW), Config())


def identity(key="an", **changes):
    return replace(person_identity(demo_person(key)), **changes)


def test_new_patient_walk_in_is_created_from_card_data(service, his):
    result = service.check_in(request_for(identity("huong"), department="NOI"))
    assert result.mode == "online" and result.patient_created
    assert result.ticket.label == "001" and result.ticket.department_code == "NOI"
    assert not result.ticket.booked and result.appointment_id is None
    assert his.plans[-1].patient is None  # created inside the visit's transaction


def test_booked_appointment_today_is_used_and_department_comes_from_it(service, his):
    patient = his.add_patient("001093012345")
    his.appointments.append(Appointment("a1", patient.id, NOW.replace(hour=9), "booked", "v1", "TIM", "P203"))
    result = service.check_in(request_for(identity("an"), department="NOI"))
    assert result.ticket.booked and result.appointment_id == "a1"
    assert result.ticket.department_code == "TIM" and result.ticket.room_code == "P203"
    assert his.plans[-1].patient == patient


def test_appointment_on_another_day_is_not_today(service, his):
    patient = his.add_patient("001093012345")
    his.appointments.append(Appointment("a1", patient.id, datetime(2026, 11, 26, 9, tzinfo=TZ), "booked"))
    with pytest.raises(DepartmentRequired):
        service.check_in(request_for(identity("an")))


def test_duplicates_are_narrowed_by_birth_date_never_picked_silently(service, his):
    right = his.add_patient("036090005555", date(1990, 2, 14))
    his.add_patient("036090005555", date(1991, 2, 14))
    result = service.check_in(request_for(identity("minh"), department="NOI"))
    assert result.patient_id == right.id
    typed = Identity(citizen_id="036090005555", source=IdentitySource.TYPED, assurance=Assurance.TYPED)
    with pytest.raises(PatientAmbiguous):
        service.check_in(request_for(typed, department="NOI"))
    with pytest.raises(PatientAmbiguous):
        service.check_in(request_for(identity("minh", birth_date=date(1980, 1, 1)), department="NOI"))


def test_walk_ins_are_spread_over_rooms_and_numbers_increase(service):
    rooms = [service.check_in(request_for(identity("ngoc"), department="NOI")).ticket for _ in range(4)]
    assert [t.number for t in rooms] == [1, 2, 3, 4]
    assert [t.room_code for t in rooms] == ["P101", "P102", "P101", "P102"]
    assert pick_room(DEPARTMENTS[0], 5).code == "P101"


def test_department_errors(service):
    with pytest.raises(DepartmentRequired):
        service.check_in(request_for(identity("ngoc")))
    with pytest.raises(UnknownDepartment):
        service.check_in(request_for(identity("ngoc"), department="XYZ"))
    with pytest.raises(UnknownDepartment):
        service.check_in(request_for(identity("ngoc"), department="EMPTY"))


def test_invalid_id_is_refused_before_any_his_call(service, his):
    with pytest.raises(InvalidIdentity):
        service.check_in(request_for(identity("an", citizen_id="12345"), department="NOI"))
    assert his.plans == []


def test_priority_from_age_or_declaration(service):
    elderly = service.check_in(request_for(identity("hung"), department="TIM")).ticket
    child = service.check_in(request_for(identity("linh"), department="NOI")).ticket
    pregnant = service.check_in(request_for(identity("nhung"), department="NOI",
                                            declared_priority=Priority.PREGNANT)).ticket
    adult = service.check_in(request_for(identity("ngoc"), department="NOI")).ticket
    assert (elderly.priority, child.priority, pregnant.priority, adult.priority) == (
        Priority.ELDERLY_75, Priority.CHILD_UNDER_6, Priority.PREGNANT, None)


def test_ticket_carries_masked_name_and_hospital(service):
    ticket = service.check_in(request_for(identity("an"), department="NOI")).ticket
    assert ticket.masked_name == "NGUYỄN V** AN"
    assert ticket.hospital_name == Config().kiosk.hospital_name
    assert ticket.issued_at == NOW


def test_retry_with_same_checkin_id_returns_the_first_visit(service, his):
    req = request_for(identity("huong"), department="NOI")
    first = service.check_in(req)
    second = service.check_in(req)
    assert first.encounter_id == second.encounter_id
    assert second.ticket.number == first.ticket.number  # the recorded number wins over the new allocation
    assert len(his.visits) == 1


def test_a_lookup_the_kiosk_already_has_is_reused_not_asked_again(service, his):
    patient = his.add_patient("001093012345")
    his.appointments.append(Appointment("a1", patient.id, NOW.replace(hour=9), "booked", "v1", "TIM", "P203"))
    lookup = his.lookup_patient("001093012345", NOW.date())  # what the appointment screen showed
    asked = his.lookups
    result = service.check_in(request_for(identity("an"), lookup=lookup))
    assert his.lookups == asked and result.appointment_id == "a1"
