"""The HIS port over FHIR R4 (see ``kiosk.ports.His``).

Round trips per check-in (steady state): one search for the patient with
their appointments (``_revinclude``), one counter update for the queue number
(``If-Match``, retried on 412), one transaction that marks the appointment
arrived and creates the patient (when new) and the Encounter with conditional
creates keyed by the check-in id — so a retried check-in converges instead of
duplicating, even though some engines do not apply transactions atomically.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from datetime import date, datetime, timedelta

from ..config import Config
from ..domain import Appointment, Department, Patient, Priority
from ..errors import HisConflict, HisUnavailable
from ..ports import PatientLookup, RecordedVisit, VisitPlan
from . import mapping as m
from .client import FhirClient, version_of

log = logging.getLogger(__name__)

COUNTER_ATTEMPTS = 50
DEPARTMENTS_TTL_S = 300.0


class FhirHis:
    def __init__(self, config: Config, client: FhirClient | None = None):
        self.config = config
        self.his = config.his
        self.client = client or FhirClient(config.his)
        self.ext = m.extensions(config.his)
        self._counters: dict[str, dict] = {}  # counter key -> last known Basic resource
        self._lock = threading.Lock()
        self._departments: list[Department] | None = None
        self._departments_at = 0.0

    # -- reference data ---------------------------------------------------------
    def list_departments(self, *, refresh: bool = False) -> list[Department]:
        with self._lock:
            fresh = time.monotonic() - self._departments_at < DEPARTMENTS_TTL_S
            if self._departments is not None and fresh and not refresh:
                return self._departments
        services, included = self.client.search(
            "HealthcareService", {"active": "true", "_include": "HealthcareService:location", "_count": "200"})
        depts = m.departments_from_fhir(services, included, self.his)
        with self._lock:
            self._departments, self._departments_at = depts, time.monotonic()
        return depts

    def _room_by_location(self) -> dict[str, str]:
        return {r.location_id: r.code for d in self.list_departments() for r in d.rooms if r.location_id}

    def waiting_counts(self, day: date) -> dict[str, int]:
        """Patients waiting per department: today's arrivals (``period.start``
        today — an Encounter's ``date`` search also matches yesterday's open
        visits) not called yet and not no-shows."""
        start, end = _day_bounds(day, self.config)
        encounters, _ = self.client.search("Encounter", [
            ("status", "arrived"), ("date", f"ge{start.isoformat()}"), ("date", f"lt{end.isoformat()}"),
            ("_elements", "serviceType,period,extension"), ("_count", "1000")])
        counts: dict[str, int] = {}
        for enc in encounters:
            if enc.get("resourceType", "Encounter") != "Encounter":
                continue
            arrived = m.parse_datetime((enc.get("period") or {}).get("start"))
            if arrived is None or not start <= arrived < end:
                continue
            if any(e.get("url") in (self.ext.called_at, self.ext.no_show) for e in enc.get("extension") or []):
                continue
            for coding in (enc.get("serviceType") or {}).get("coding") or []:
                if coding.get("system") == self.his.department_system and coding.get("code"):
                    counts[coding["code"]] = counts.get(coding["code"], 0) + 1
        return counts

    # -- check-in steps ---------------------------------------------------------
    def lookup_patient(self, citizen_id: str, day: date) -> PatientLookup:
        return self._patients_with(f"{self.his.cccd_system}|{citizen_id}", day)

    def find_patient_by_code(self, code: str, day: date) -> PatientLookup:
        """Patients by the hospital patient code (``his.patient_code_system``),
        with their appointments of ``day``: the same one round trip as by CCCD."""
        return self._patients_with(f"{self.his.patient_code_system}|{code}", day)

    def _patients_with(self, identifier: str, day: date) -> PatientLookup:
        patients, included = self.client.search("Patient", {
            "identifier": identifier,
            "_revinclude": "Appointment:patient",
        })
        start, end = _day_bounds(day, self.config)
        rooms = self._room_by_location() if included else {}
        lookup = PatientLookup(patients=[m.patient_from_fhir(p, self.his) for p in patients])
        for res in included:
            if res.get("resourceType") != "Appointment" or res.get("status") != "booked":
                continue
            appt = m.appointment_from_fhir(res, self.his, rooms)
            if appt.start and start <= appt.start < end:
                lookup.appointments.setdefault(appt.patient_id, []).append(appt)
        for appts in lookup.appointments.values():
            appts.sort(key=lambda a: a.start)
        return lookup

    def find_booking(self, code: str) -> tuple[Patient, Appointment] | None:
        """The appointment with this booking code and its patient (one round trip)."""
        appts, included = self.client.search("Appointment", {
            "identifier": f"{self.his.booking_system}|{code}", "_include": "Appointment:patient"})
        if not appts:
            return None
        appt = m.appointment_from_fhir(appts[0], self.his, self._room_by_location())
        patient = next((m.patient_from_fhir(p, self.his) for p in included
                        if p.get("resourceType") == "Patient" and p.get("id") == appt.patient_id), None)
        return (patient, appt) if patient else None

    def allocate_queue_number(self, department_code: str, day: date) -> int:
        """Next number of the department's daily counter, unique across kiosks:
        a ``Basic`` resource updated with If-Match and retried on 412."""
        key = f"{department_code}-{day:%Y%m%d}"
        for _ in range(COUNTER_ATTEMPTS):
            counter = self._counters.get(key)
            if counter is None:
                fresh = self._counter_resource(key, value=1)
                r = self.client.create(fresh, if_none_exist=f"identifier={self.his.counter_system}|{key}")
                if r.status == 201:
                    self._counters[key] = r.body
                    return 1
                counter = r.body  # it existed: update it below
            value = (m.extension_value(counter, self.ext.counter_value, "valueInteger") or 0) + 1
            updated = self._counter_resource(key, value=value, rid=counter["id"])
            try:
                r = self.client.update(updated, if_match=version_of(counter))
            except HisConflict:
                self._counters[key] = self.client.read("Basic", counter["id"]).body
                continue
            self._counters[key] = r.body
            return value
        raise HisConflict(f"queue counter {department_code}: still conflicting after {COUNTER_ATTEMPTS} attempts")

    def _counter_resource(self, key: str, value: int, rid: str | None = None) -> dict:
        res = {
            "resourceType": "Basic",
            "identifier": [{"system": self.his.counter_system, "value": key}],
            "code": {"text": "Kiosk queue-number counter"},
            "extension": [{"url": self.ext.counter_value, "valueInteger": value}],
        }
        if rid:
            res["id"] = rid
        return res

    def record_visit(self, plan: VisitPlan) -> RecordedVisit:
        for attempt in range(3):
            try:
                return self._record_visit_once(plan)
            except HisConflict:
                # The appointment changed under us (or a retried transaction
                # already marked it arrived): re-read and converge.
                existing = self.find_visit(plan.checkin_id)
                if existing:
                    return existing
                if plan.appointment is None or attempt == 2:
                    raise
                fresh = self.client.read("Appointment", plan.appointment.id).body
                appt = m.appointment_from_fhir(fresh, self.his, self._room_by_location())
                # Already arrived (e.g. marked at the front desk): link, don't update again.
                plan = dataclasses.replace(plan, appointment=appt)
        raise HisConflict("visit: still conflicting")

    def _record_visit_once(self, plan: VisitPlan) -> RecordedVisit:
        entries = []
        created_patient = plan.patient is None
        if plan.patient is None:
            patient_ref = f"urn:uuid:{plan.checkin_id}"
            entries.append({
                "fullUrl": patient_ref,
                "resource": m.patient_to_fhir(plan.identity, self.his),
                "request": {"method": "POST", "url": "Patient",
                            "ifNoneExist": f"identifier={self.his.cccd_system}|{plan.identity.citizen_id}"},
            })
        else:
            patient_ref = f"Patient/{plan.patient.id}"
        appt = plan.appointment
        if appt and appt.status == "booked" and appt.resource:
            res = dict(appt.resource, status="arrived")
            entries.append({"resource": res, "request": {
                "method": "PUT", "url": f"Appointment/{appt.id}", "ifMatch": f'W/"{appt.version_id}"'}})
        entries.append({
            "resource": m.encounter_to_fhir(plan, patient_ref, self.his, self.config.kiosk.id),
            "request": {"method": "POST", "url": "Encounter",
                        "ifNoneExist": f"identifier={self.his.checkin_system}|{plan.checkin_id}"},
        })
        out = self.client.transaction(entries, retry=True)
        enc = out[-1].get("resource") or {}
        pat_status = str(((out[0] if created_patient else {}).get("response") or {}).get("status", ""))
        return self._recorded(enc, appt.id if appt else None, created_patient and pat_status.startswith("201"))

    def find_visit(self, checkin_id: str) -> RecordedVisit | None:
        """The visit recorded for a check-in id, asked of the HIS itself."""
        found, _ = self.client.search("Encounter", {"identifier": f"{self.his.checkin_system}|{checkin_id}"})
        if not found:
            return None
        enc = found[0]
        appt_ref = ((enc.get("appointment") or [{}])[0]).get("reference")
        return self._recorded(enc, m.ref_id(appt_ref), False)

    def _recorded(self, enc: dict, appointment_id: str | None, patient_created: bool) -> RecordedVisit:
        if not enc.get("id"):
            raise HisUnavailable("transaction response without the Encounter")
        dept = next((c.get("code") for c in (enc.get("serviceType") or {}).get("coding") or []
                     if c.get("system") == self.his.department_system), None)
        loc = ((enc.get("location") or [{}])[0].get("location") or {}).get("reference")
        priority = m.extension_value(enc, self.ext.queue_priority, "valueCode")
        return RecordedVisit(
            patient_id=m.ref_id((enc.get("subject") or {}).get("reference")) or "",
            encounter_id=enc["id"],
            appointment_id=appointment_id,
            queue_number=m.extension_value(enc, self.ext.queue_number, "valueInteger") or 0,
            queue_label=m.extension_value(enc, self.ext.queue_label, "valueString") or "",
            patient_created=patient_created,
            department_code=dept,
            room_code=self._room_by_location().get(m.ref_id(loc) or "") if loc else None,
            priority=Priority(priority) if priority in Priority._value2member_map_ else None,
        )

    def find_visits(self, checkin_ids: list[str]) -> tuple[dict[str, RecordedVisit], list[str]]:
        """Visits the HIS holds for many check-in ids, in one search; also the
        ids that have more than one visit (which must never happen)."""
        system = self.his.checkin_system
        found, _ = self.client.search("Encounter", {
            "identifier": ",".join(f"{system}|{cid}" for cid in checkin_ids),
            "_count": str(2 * len(checkin_ids))})
        visits: dict[str, RecordedVisit] = {}
        duplicates = []
        for enc in found:
            cid = m.identifier_value(enc, system)
            if cid in visits:
                duplicates.append(cid)
            appt_ref = ((enc.get("appointment") or [{}])[0]).get("reference")
            visits[cid] = self._recorded(enc, m.ref_id(appt_ref), False)
        return visits, duplicates

    def relabel_visit(self, encounter_id: str, *, number: int, label: str, department_code: str,
                      day: date) -> str:
        """Put an offline ticket's number and label on a visit that an abandoned
        online attempt created with an online number, so the paper ticket in the
        patient's hand matches the calling board. Only while the visit is still
        waiting; returns the label the visit carries now."""
        for _ in range(5):
            enc = self.client.read("Encounter", encounter_id).body or {}
            current = m.extension_value(enc, self.ext.queue_label, "valueString") or ""
            if current == label or enc.get("status") != "arrived":
                return current
            ext = [e for e in enc.get("extension") or [] if e.get("url") not in (self.ext.queue_number, self.ext.queue_label)]
            enc["extension"] = [{"url": self.ext.queue_number, "valueInteger": number},
                                {"url": self.ext.queue_label, "valueString": label}, *ext]
            idents = [i for i in enc.get("identifier") or [] if i.get("system") != self.his.queue_system]
            enc["identifier"] = idents + [{"system": self.his.queue_system,
                                           "value": f"{department_code}-{day:%Y%m%d}-{label}"}]
            try:
                self.client.update(enc, if_match=version_of(enc))
                return label
            except HisConflict:
                continue
        raise HisConflict("relabel: the visit kept changing")

    def close(self) -> None:
        self.client.close()

    def ping(self) -> float:
        """Round-trip time of a cheap request; raises HisUnavailable when down."""
        started = time.perf_counter()
        self.client.request("GET", "metadata", retry=False)
        return time.perf_counter() - started




def _day_bounds(day: date, config: Config) -> tuple[datetime, datetime]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(config.kiosk.timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    return start, start + timedelta(days=1)
