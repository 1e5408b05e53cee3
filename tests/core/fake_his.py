"""An in-memory HIS for fast unit tests of the core (no network)."""
from __future__ import annotations

import itertools
from datetime import date

from kiosk.domain import Appointment, ClinicRoom, Department, Patient
from kiosk.ports import PatientLookup, RecordedVisit, VisitPlan

DEPARTMENTS = [
    Department("NOI", "Nội khoa", (ClinicRoom("P101", "Phòng khám Nội 1", "Tầng 1, Nhà A", "loc1"),
                                  ClinicRoom("P102", "Phòng khám Nội 2", "Tầng 1, Nhà A", "loc2"))),
    Department("TIM", "Tim mạch", (ClinicRoom("P203", "Phòng khám Tim mạch", "Tầng 2, Nhà A", "loc3"),)),
    Department("EMPTY", "Không có phòng", ()),
]


class FakeHis:
    def __init__(self):
        self.patients: list[Patient] = []
        self.appointments: list[Appointment] = []
        self.visits: dict[str, RecordedVisit] = {}
        self.plans: list[VisitPlan] = []
        self.counters: dict[str, itertools.count] = {}
        self.lookups = 0
        self._ids = itertools.count(1)

    def add_patient(self, citizen_id: str, birth_date: date | None = None) -> Patient:
        p = Patient(id=f"p{next(self._ids)}", citizen_id=citizen_id, birth_date=birth_date)
        self.patients.append(p)
        return p

    def lookup_patient(self, citizen_id, day):
        self.lookups += 1
        found = [p for p in self.patients if p.citizen_id == citizen_id]
        ids = {p.id for p in found}
        appts = {}
        for a in self.appointments:
            if a.patient_id in ids and a.status == "booked" and a.start and a.start.date() == day:
                appts.setdefault(a.patient_id, []).append(a)
        return PatientLookup(found, appts)

    def allocate_queue_number(self, department_code, day, *, checkin_id=None):
        return next(self.counters.setdefault(f"{department_code}-{day}", itertools.count(1)))

    def record_visit(self, plan):
        self.plans.append(plan)
        if plan.checkin_id in self.visits:
            return self.visits[plan.checkin_id]
        patient = plan.patient or self.add_patient(plan.identity.citizen_id, plan.identity.birth_date)
        visit = RecordedVisit(patient.id, f"e{next(self._ids)}", plan.appointment.id if plan.appointment else None,
                              plan.queue_number, plan.queue_label, plan.patient is None,
                              plan.department.code, plan.room.code, plan.priority)
        self.visits[plan.checkin_id] = visit
        return visit

    def list_departments(self, *, refresh=False):
        return DEPARTMENTS

    def ping(self):
        return 0.0

    def close(self):
        pass

    def settle_visit(self, checkin_id):
        return self.visits.get(checkin_id)

    def find_visits(self, checkin_ids):
        return {c: self.visits[c] for c in checkin_ids if c in self.visits}, []

    def relabel_visit(self, encounter_id, *, number, label, department_code, day):
        return label

    def waiting_counts(self, day):
        return {}
