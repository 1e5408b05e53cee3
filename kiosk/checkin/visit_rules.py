"""The check-in's rules, each written once.

Which patient record an identity means, which of today's appointments the
check-in is for, which department and clinic room the visit goes to, how a
queue number is labelled and what the ticket says. The online check-in
(``kiosk.checkin.online``), the offline-first check-in (``kiosk.checkin.offline_first``), the
outbox sender (``offline_cache.sender``) and the journey (``kiosk.journey.machine``)
all call these functions, so the kiosk never gives two answers to one question.
"""
from __future__ import annotations

import zlib
from datetime import date, datetime, timezone, tzinfo
from typing import Iterable

from kiosk.domain import (
    Appointment,
    ClinicRoom,
    Department,
    OpenVisit,
    Patient,
    PatientLookup,
    Priority,
    Ticket,
    age_priority,
    mask_name,
)
from kiosk.errors import DepartmentRequired, PatientAmbiguous, UnknownDepartment

ARRIVABLE = "booked"  # the only Appointment status a patient can arrive for


def choose_patient(patients: list[Patient], birth_date: date | None) -> Patient | None:
    """The one patient record for an identity, or None when there is none.

    Several records with the same citizen ID happen (duplicates from data
    entry): they are narrowed by the date of birth the card or QR gives; if
    that does not leave exactly one, the front desk must decide."""
    if len(patients) <= 1:
        return patients[0] if patients else None
    if birth_date is not None:
        same = [p for p in patients if p.birth_date == birth_date]
        if len(same) == 1:
            return same[0]
    raise PatientAmbiguous(f"{len(patients)} patient records share the citizen ID; date of birth "
                           f"{'does not single one out' if birth_date else 'is unknown'}")


def todays_appointment(lookup: PatientLookup, patient: Patient | None, day: date, tz: tzinfo, *,
                       department_code: str | None = None) -> Appointment | None:
    """The appointment today's check-in is for: the patient's ``booked``
    appointment starting on ``day`` in the hospital's timezone ``tz`` (in the
    department asked for, if any); of several, the earliest. None for a walk-in."""
    if patient is None:
        return None
    candidates = [a for a in lookup.appointments.get(patient.id, ())
                  if a.status == ARRIVABLE and a.start is not None and a.start.astimezone(tz).date() == day
                  and (department_code is None or a.department_code == department_code)]
    return min(candidates, key=lambda a: a.start) if candidates else None


def patient_and_appointment(lookup: PatientLookup, birth_date: date | None, day: date,
                            tz: tzinfo) -> tuple[Patient | None, Appointment | None]:
    """Both answers at once (what the journey shows before the check-in)."""
    patient = choose_patient(lookup.patients, birth_date)
    return patient, todays_appointment(lookup, patient, day, tz)


def open_visit(lookup: PatientLookup, patient: Patient | None, department_code: str, *,
               checkin_id: str | None = None, repeat_visits: str = "refuse") -> OpenVisit | None:
    """The patient's visit of today still open in this department — the
    number they already have — unless the hospital allows repeat visits
    (``kiosk.repeat_visits = "allow"``). A visit made by this very check-in
    (``checkin_id``: a retry) is not a repeat."""
    if patient is None or repeat_visits == "allow":
        return None
    return next((v for v in lookup.open_visits.get(patient.id, ())
                 if v.department_code == department_code and (checkin_id is None or v.checkin_id != checkin_id)),
                None)


def departments_by_code(departments: Iterable[Department]) -> dict[str, Department]:
    return {d.code: d for d in departments}


def place(departments: dict[str, Department], appointment: Appointment | None,
          department_code: str | None, room_code: str | None = None) -> tuple[Department, ClinicRoom | None]:
    """The department of the visit (the appointment's, else the one chosen)
    and its room when known (the appointment's, or ``room_code``); None means
    "pick one by queue number" (``pick_room``)."""
    code = (appointment.department_code if appointment else None) or department_code
    if not code:
        raise DepartmentRequired("no appointment today and no department chosen")
    department = departments.get(code)
    if department is None or not department.rooms:
        raise UnknownDepartment(f"department {code!r} is unknown to the HIS or has no clinic room")
    wanted = (appointment.room_code if appointment else None) or room_code
    return department, department.room(wanted) if wanted else None


def pick_room(department: Department, number: int | None, checkin_id: str = "") -> ClinicRoom:
    """Walk-ins are spread over the department's rooms by queue number; when
    the HIS gives the number only once the visit is recorded, by check-in id."""
    if number is None:
        number = 1 + zlib.crc32(checkin_id.encode("utf-8"))
    return department.rooms[(number - 1) % len(department.rooms)]


def room_of(department: Department, room_code: str | None) -> ClinicRoom:
    """The recorded room, or the department's first when the HIS names none."""
    return department.room(room_code or "") or department.rooms[0]


def queue_label(number: int) -> str:
    """What is printed large: "012"."""
    return f"{number:03d}"


def visit_priority(declared: Priority | None, birth_date: date | None, day: date) -> Priority | None:
    """A declared priority group, else the one the date of birth gives (under 6, 75+)."""
    return declared or age_priority(birth_date, day)


def make_ticket(*, reference: str, number: int, label: str, department: Department, room: ClinicRoom,
                issued_at: datetime, booked: bool, priority: Priority | None, full_name: str | None,
                hospital_name: str, offline: bool = False) -> Ticket:
    """The ticket for a visit: only the masked name ever reaches paper or screen."""
    return Ticket(
        reference=reference, number=number, label=label or queue_label(number),
        department_code=department.code, department_name=department.name,
        room_code=room.code, room_name=room.name, room_where=room.where,
        issued_at=issued_at, booked=booked, priority=priority, masked_name=mask_name(full_name),
        offline=offline, hospital_name=hospital_name)


def test_ticket(config) -> Ticket:
    """The ticket a test print sends (``kiosk doctor --test-print``, the admin screen)."""
    now = datetime.now(timezone.utc)
    return Ticket(reference="TEST-" + now.strftime("%Y%m%d%H%M%S"), number=0, label="TEST",
                  department_code="TEST", department_name="IN THỬ / TEST PRINT", room_code="-",
                  room_name=config.kiosk.id, room_where=now.strftime("%Y-%m-%d %H:%M UTC"),
                  issued_at=now, booked=False, hospital_name=config.kiosk.hospital_name)
