"""The check-in service: from an identity to a visit in the HIS and a ticket.

1. Find the patient by the configured CCCD identifier system; several matches
   are narrowed by date of birth and never silently picked.
2. Create the patient when missing (from card/QR data) — inside the visit's
   transaction, as a conditional create.
3. A booked appointment today is marked arrived; otherwise the check-in is a
   walk-in for the chosen department.
4. A queue number per department per day — from the kiosks' shared counter
   before the visit is recorded, or given by the HIS when it records it —
   and the Encounter (arrived, AMB, clinic room as location). The ticket
   shows what the HIS holds.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.checkin.visit_rules import (
    ARRIVABLE,
    choose_patient,
    departments_by_code,
    make_ticket,
    open_visit,
    pick_room,
    place,
    queue_label,
    room_of,
    todays_appointment,
    visit_priority,
)
from kiosk.config.loader import Config
from kiosk.domain import (
    Assurance,
    CheckInRequest,
    CheckInResult,
    Department,
    Identity,
    IdentitySource,
    OpenVisit,
    is_valid_citizen_id,
)
from kiosk.errors import BookingNotUsable, DepartmentRequired, HisUnavailable, InvalidIdentity, UnknownDepartment
from kiosk.operations import metrics
from kiosk.ports import Clock, His, RecordedVisit, VisitPlan

log = logging.getLogger(__name__)


class CheckInService:
    def __init__(self, his: His, clock: Clock, config: Config):
        self.his = his
        self.clock = clock
        self.config = config
        self.tz = ZoneInfo(config.kiosk.timezone)

    def check_in(self, request: CheckInRequest) -> CheckInResult:
        started = time.perf_counter()
        identity = request.identity
        if not is_valid_citizen_id(identity.citizen_id):
            raise InvalidIdentity("citizen ID is not 12 digits")
        now = self.clock.now()
        day = now.date()
        departments = departments_by_code(self.his.list_departments())  # read once per check-in
        if request.is_retry:
            # The first attempt may have reached the HIS with its answer lost:
            # ask the HIS before doing anything again.
            existing = self.his.settle_visit(request.checkin_id)
            if existing is not None:
                return self._result(request, existing, departments, now, booked=existing.appointment_id is not None)

        lookup = request.lookup or self.his.lookup_patient(identity.citizen_id, day)
        patient = choose_patient(lookup.patients, identity.birth_date)
        appointment = todays_appointment(lookup, patient, day, self.tz)
        try:
            department, room = place(departments, appointment, request.department_code)
        except DepartmentRequired:
            # The same check-in sent again without the retry flag, after its
            # appointment was already marked arrived: the visit it made wins.
            existing = self.his.settle_visit(request.checkin_id)
            if existing is None:
                raise
            return self._result(request, existing, departments, now, booked=existing.appointment_id is not None)
        already = open_visit(lookup, patient, department.code, checkin_id=request.checkin_id,
                             repeat_visits=self.config.kiosk.repeat_visits)
        if already is not None:
            return self._repeat(request, already, departments, now, patient.full_name if patient else None)
        number = self.his.allocate_queue_number(department.code, day, checkin_id=request.checkin_id)
        plan = VisitPlan(
            checkin_id=request.checkin_id, identity=identity, patient=patient, appointment=appointment,
            department=department, room=room or pick_room(department, number, request.checkin_id),
            queue_number=number, queue_label=queue_label(number) if number is not None else None, day=day,
            arrived_at=now,
            priority=visit_priority(request.declared_priority,
                                    identity.birth_date or (patient.birth_date if patient else None), day))
        try:
            visit = self.his.record_visit(plan)
        except HisUnavailable as exc:
            # The visit may be recorded (an answer lost after the write): the
            # outbox takes the check-in over with the department chosen here.
            exc.department_code = department.code
            raise
        result = self._result(request, visit, departments, now, booked=appointment is not None,
                              patient_name=patient.full_name if patient else None)
        log.info("check-in recorded", extra={
            "event": "checkin.online", "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "department": department.code, "booked": result.ticket.booked,
            "source": identity.source.value, "patient_created": visit.patient_created})
        return result

    def _repeat(self, request: CheckInRequest, visit: OpenVisit, departments: dict[str, Department], now,
                patient_name: str | None) -> CheckInResult:
        """The patient already has a number today in this department: the same
        ticket again (rebuilt from the visit the HIS holds), no second visit."""
        recorded = RecordedVisit(patient_id=visit.patient_id, encounter_id=visit.encounter_id, appointment_id=None,
                                 queue_number=visit.queue_number, queue_label=visit.queue_label,
                                 department_code=visit.department_code, room_code=visit.room_code,
                                 priority=visit.priority)
        result = self._result(dataclasses.replace(request, checkin_id=visit.checkin_id or request.checkin_id),
                              recorded, departments, now, booked=visit.booked, patient_name=patient_name)
        metrics.CHECKIN_REPEATS.inc(mode="online")
        log.info("patient already has a number today", extra={
            "event": "checkin.repeat", "department": visit.department_code, "mode": "online"})
        return dataclasses.replace(result, repeat=True)

    def _result(self, request: CheckInRequest, visit: RecordedVisit, departments: dict[str, Department], now, *,
                booked: bool, patient_name: str | None = None) -> CheckInResult:
        """The ticket for a recorded visit (what the HIS holds wins over the plan)."""
        department = departments.get(visit.department_code or "")
        if department is None or not department.rooms:
            raise UnknownDepartment(f"recorded visit names department {visit.department_code!r}")
        ticket = make_ticket(
            reference=request.checkin_id, number=visit.queue_number, label=visit.queue_label,
            department=department, room=room_of(department, visit.room_code), issued_at=now, booked=booked,
            priority=visit.priority, full_name=request.identity.full_name or patient_name,
            hospital_name=self.config.kiosk.hospital_name)
        return CheckInResult(ticket=ticket, mode="online", patient_id=visit.patient_id,
                             encounter_id=visit.encounter_id, appointment_id=visit.appointment_id,
                             patient_created=visit.patient_created)


def identity_for_booking(his: His, code: str, now: datetime) -> Identity:
    """Who an appointment QR belongs to, from the HIS record (the QR holds only
    the booking code). The check-in then goes on as for any identity. ``now``
    is timezone-aware in the hospital's timezone: the appointment must be today's there."""
    found = his.find_booking(code)
    if found is None:
        raise BookingNotUsable("no appointment with this booking code")
    patient, appt = found
    if appt.status != ARRIVABLE or appt.start is None or appt.start.astimezone(now.tzinfo).date() != now.date():
        raise BookingNotUsable(f"appointment is {appt.status}, not booked for today",
                               key="error.booking_not_today")
    if not patient.citizen_id:
        raise BookingNotUsable("the patient record has no CCCD identifier", key="error.booking_no_citizen_id")
    return Identity(citizen_id=patient.citizen_id, source=IdentitySource.APPOINTMENT_QR,
                    assurance=Assurance.QR, full_name=patient.full_name, birth_date=patient.birth_date,
                    sex=patient.sex)
