"""The check-in service: from an identity to a visit in the HIS and a ticket.

1. Find the patient by the configured CCCD identifier system; several matches
   are narrowed by date of birth and never silently picked.
2. Create the patient when missing (from card/QR data) — inside the visit's
   transaction, as a conditional create.
3. A booked appointment today is marked arrived; otherwise the check-in is a
   walk-in for the chosen department.
4. A queue number per department per day, then the Encounter (arrived, AMB,
   clinic room as location) carrying it. The ticket is returned.
"""
from __future__ import annotations

import logging
import time

from .config import Config
from .domain import (
    Appointment,
    Assurance,
    CheckInRequest,
    CheckInResult,
    ClinicRoom,
    Department,
    Identity,
    IdentitySource,
    Patient,
    Ticket,
    age_priority,
    is_valid_citizen_id,
    mask_name,
)
from .errors import BookingNotUsable, DepartmentRequired, InvalidIdentity, PatientAmbiguous, UnknownDepartment
from .ports import Clock, His, PatientLookup, RecordedVisit, VisitPlan

log = logging.getLogger(__name__)


def queue_label(number: int) -> str:
    return f"{number:03d}"


class CheckInService:
    def __init__(self, his: His, clock: Clock, config: Config):
        self.his = his
        self.clock = clock
        self.config = config

    def check_in(self, request: CheckInRequest) -> CheckInResult:
        started = time.perf_counter()
        identity = request.identity
        if not is_valid_citizen_id(identity.citizen_id):
            raise InvalidIdentity("citizen ID is not 12 digits")
        now = self.clock.now()
        day = now.date()
        if request.is_retry:
            # The first attempt may have reached the HIS with its answer lost:
            # ask the HIS before doing anything again.
            existing = self.his.find_visit(request.checkin_id)
            if existing is not None:
                return self._result(request, existing, now, booked=existing.appointment_id is not None)

        lookup = request.lookup or self.his.lookup_patient(identity.citizen_id, day)
        patient = choose_patient(lookup, request)
        appointment = _first_appointment(lookup, patient)

        department, room = self._place(appointment, request)
        number = self.his.allocate_queue_number(department.code, day)
        if room is None:
            room = pick_room(department, number)
        priority = request.declared_priority or age_priority(
            identity.birth_date or (patient.birth_date if patient else None), day)
        plan = VisitPlan(
            checkin_id=request.checkin_id, identity=identity, patient=patient,
            appointment=appointment, department=department, room=room,
            queue_number=number, queue_label=queue_label(number), day=day,
            arrived_at=now, priority=priority)
        visit = self.his.record_visit(plan)
        result = self._result(request, visit, now, booked=appointment is not None,
                              patient_name=patient.full_name if patient else None)
        log.info("check-in recorded", extra={
            "event": "checkin.online", "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "department": department.code, "booked": result.ticket.booked,
            "source": identity.source.value, "patient_created": visit.patient_created})
        return result

    def _result(self, request: CheckInRequest, visit: RecordedVisit, now, *, booked: bool,
                patient_name: str | None = None) -> CheckInResult:
        """The ticket for a recorded visit (what the HIS holds wins over the plan)."""
        departments = {d.code: d for d in self.his.list_departments()}
        department = departments.get(visit.department_code or "")
        if department is None:
            raise UnknownDepartment(f"recorded visit names department {visit.department_code!r}")
        room = department.room(visit.room_code or "") or department.rooms[0]
        ticket = Ticket(
            reference=request.checkin_id,
            number=visit.queue_number,
            label=visit.queue_label or queue_label(visit.queue_number),
            department_code=department.code,
            department_name=department.name,
            room_code=room.code,
            room_name=room.name,
            room_where=room.where,
            issued_at=now,
            booked=booked,
            priority=visit.priority,
            masked_name=mask_name(request.identity.full_name or patient_name),
            hospital_name=self.config.kiosk.hospital_name,
        )
        return CheckInResult(ticket=ticket, mode="online", patient_id=visit.patient_id,
                             encounter_id=visit.encounter_id, appointment_id=visit.appointment_id,
                             patient_created=visit.patient_created)

    def _place(self, appointment: Appointment | None,
               request: CheckInRequest) -> tuple[Department, ClinicRoom | None]:
        departments = {d.code: d for d in self.his.list_departments()}
        code = (appointment.department_code if appointment else None) or request.department_code
        if not code:
            raise DepartmentRequired("no appointment today and no department chosen")
        department = departments.get(code)
        if department is None or not department.rooms:
            raise UnknownDepartment(f"department {code!r} is unknown to the HIS or has no clinic room")
        room = department.room(appointment.room_code) if appointment and appointment.room_code else None
        return department, room


def identity_for_booking(his: His, code: str, day) -> Identity:
    """Who an appointment QR belongs to, from the HIS record (the QR holds only
    the booking code). The check-in then goes on as for any identity."""
    found = his.find_booking(code)
    if found is None:
        raise BookingNotUsable("no appointment with this booking code")
    patient, appt = found
    if appt.status != "booked" or appt.start is None or appt.start.date() != day:
        raise BookingNotUsable(f"appointment is {appt.status}, not booked for today",
                               key="error.booking_not_today")
    if not patient.citizen_id:
        raise BookingNotUsable("the patient record has no CCCD identifier", key="error.booking_no_citizen_id")
    return Identity(citizen_id=patient.citizen_id, source=IdentitySource.APPOINTMENT_QR,
                    assurance=Assurance.QR, full_name=patient.full_name, birth_date=patient.birth_date,
                    sex=patient.sex)


def choose_patient(lookup: PatientLookup, request: CheckInRequest) -> Patient | None:
    """The one patient record for this identity, or None when there is none.

    Several records with the same citizen ID happen (duplicates from data
    entry): narrow them by the date of birth the card/QR gives; if that does
    not leave exactly one, the front desk must decide."""
    patients = lookup.patients
    if len(patients) <= 1:
        return patients[0] if patients else None
    dob = request.identity.birth_date
    if dob is not None:
        same = [p for p in patients if p.birth_date == dob]
        if len(same) == 1:
            return same[0]
    raise PatientAmbiguous(f"{len(patients)} patient records share the citizen ID; date of birth "
                           f"{'does not single one out' if dob else 'is unknown'}")


def _first_appointment(lookup: PatientLookup, patient: Patient | None) -> Appointment | None:
    if patient is None:
        return None
    appts = lookup.appointments.get(patient.id) or []
    return appts[0] if appts else None


def pick_room(department: Department, number: int) -> ClinicRoom:
    """Walk-ins are spread over the department's rooms by queue number."""
    return department.rooms[(number - 1) % len(department.rooms)]
