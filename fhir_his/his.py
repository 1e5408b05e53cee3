"""The HIS port over FHIR R4 (see ``kiosk.ports.His``), for any R4 server.

How it talks to the HIS follows the HIS's capabilities (``fhir_his.capabilities``):
the patient and today's appointments in one search with ``_revinclude`` or
two without; departments with their rooms by ``_include`` or two searches;
each visit recorded by ``fhir_his.visit_writer`` (one transaction, or one
conditional create at a time). Queue numbers come from the strategy
``his.queue_numbers`` names (``fhir_his.queue_numbers``).

Exactly once: every write is keyed by the check-in id (and a new patient by
the CCCD). When a write's answer is lost or garbled (``HisOutcomeUnknown``)
or conflicts, the visit is looked up by its check-in id — an identifier
search any server supports — before anything is sent again; if the HIS
cannot be asked either, the error goes up and the offline-first check-in
hands the check-in to the outbox, whose sender looks it up before writing.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from datetime import date, datetime, timedelta

from fhir_his import coverage as bhyt
from fhir_his import mapping as m
from fhir_his import open_visits as ov
from fhir_his.capabilities import Capabilities
from fhir_his.client import FhirClient
from fhir_his.guarded_write import write_over
from fhir_his.queue_numbers import build_queue_numbers
from fhir_his.replies import reading
from fhir_his.visit_writer import VisitWriter
from kiosk.config.loader import Config
from kiosk.domain import Appointment, Department, Patient, Priority
from kiosk.errors import HisConflict, HisOutcomeUnknown, HisRefused
from kiosk.ports import PatientLookup, RecordedVisit, VisitPlan

log = logging.getLogger(__name__)

DEPARTMENTS_TTL_S = 300.0
RECORD_ATTEMPTS = 3
RELABEL_ATTEMPTS = 5


class FhirHis:
    def __init__(self, config: Config, client: FhirClient | None = None):
        self.config = config
        self.his = config.his
        self.client = client or FhirClient(config.his)
        self.ext = m.extensions(config.his)
        self.capabilities = Capabilities(self.client, config.his)
        self.numbers = build_queue_numbers(self.client, config.his, self.ext,
                                           versions=lambda: self.capabilities.has("versioning"))
        self.writer = VisitWriter(self.client, self.capabilities, config)
        self._lock = threading.Lock()
        self._departments: list[Department] | None = None
        self._departments_at = 0.0
        self._ping_validators: dict[str, str] = {}  # If-None-Match / If-Modified-Since of the last answer

    # -- reference data ---------------------------------------------------------
    def list_departments(self, *, refresh: bool = False, reread: bool = False) -> list[Department]:
        """The departments and their rooms (cached a few minutes). ``reread``
        reads them now; ``refresh`` (the reference data's periodic refresh)
        also reads the HIS's capabilities again."""
        with self._lock:
            fresh = time.monotonic() - self._departments_at < DEPARTMENTS_TTL_S
            if self._departments is not None and fresh and not (refresh or reread):
                return self._departments
        if refresh:
            self.capabilities.refresh()
        params = {"active": "true", "_count": "200"}
        if self.capabilities.has("include"):
            services, included = self.client.search(
                "HealthcareService", {**params, "_include": "HealthcareService:location"})
        else:
            services, included = self.client.search("HealthcareService", params)
            ids = sorted({m.ref_id(ref.get("reference")) for svc in services for ref in svc.get("location") or []
                          if isinstance(ref, dict)} - {None})
            included = self.client.search("Location", {"_id": ",".join(ids), "_count": str(len(ids))})[0] if ids else []
        locations = [r for r in included if r.get("resourceType") == "Location"]
        with reading("HealthcareService search"):
            depts = m.departments_from_fhir(services, locations, self.his)
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
        with reading("Encounter search"):
            return self._count_waiting(encounters, start, end, counts)

    def _count_waiting(self, encounters, start, end, counts: dict[str, int]) -> dict[str, int]:
        for enc in encounters:
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
        """The patient records with this CCCD and their booked appointments of
        ``day``: one search with ``_revinclude``, or an explicit Appointment
        search where the HIS does not support it."""
        return self._patients_with(f"{self.his.cccd_system}|{citizen_id}", day)

    def find_patient_by_code(self, code: str, day: date) -> PatientLookup:
        """Patients by the hospital patient code (``his.patient_code_system``),
        with their appointments of ``day``: the same round trips as by CCCD."""
        return self._patients_with(f"{self.his.patient_code_system}|{code}", day)

    def _patients_with(self, token: str, day: date) -> PatientLookup:
        identifier = [("identifier", token)]
        start, end = _day_bounds(day, self.config)
        if self.capabilities.has("revinclude"):
            with_visits = self.capabilities.declares_revinclude("Patient", ov.REVINCLUDE)
            extra = [("_revinclude", ov.REVINCLUDE)] if with_visits else []
            patients, included = self.client.search(
                "Patient", [*identifier, ("_revinclude", "Appointment:patient"), *extra])
        else:
            patients, _ = self.client.search("Patient", identifier)
            included = []
            if patients:
                included, _ = self.client.search("Appointment", [
                    ("patient", ",".join(f"Patient/{p['id']}" for p in patients)),
                    ("date", f"ge{start.isoformat()}"), ("date", f"lt{end.isoformat()}"), ("status", "booked"),
                    ("_count", "100")])
            with_visits = False
        ids = [p["id"] for p in patients if isinstance(p, dict) and p.get("id")]
        if ids and not with_visits:  # one more search, only for patients that exist
            included = [*included, *self.client.search("Encounter", ov.search_params(ids, start, end))[0]]
        appointments = [r for r in included if r.get("resourceType") == "Appointment" and r.get("status") == "booked"]
        encounters = [r for r in included if r.get("resourceType") == "Encounter"]
        rooms = self._room_by_location() if appointments or encounters else {}
        with reading("Patient search"):
            lookup = PatientLookup(patients=[m.patient_from_fhir(p, self.his) for p in patients])
            for res in appointments:
                appt = m.appointment_from_fhir(res, self.his, rooms)
                if appt.start and start <= appt.start < end:
                    lookup.appointments.setdefault(appt.patient_id, []).append(appt)
            for appts in lookup.appointments.values():
                appts.sort(key=lambda a: a.start)
            lookup.open_visits = ov.open_visits(encounters, set(ids), start, end, self.his, rooms)
        return lookup

    def find_booking(self, code: str) -> tuple[Patient, Appointment] | None:
        """The appointment with this booking code and its patient."""
        params = {"identifier": f"{self.his.booking_system}|{code}"}
        if self.capabilities.has("include"):
            appts, included = self.client.search("Appointment", {**params, "_include": "Appointment:patient"})
        else:
            appts, included = self.client.search("Appointment", params)
        if not appts:
            return None
        with reading("Appointment search"):
            appt = m.appointment_from_fhir(appts[0], self.his, self._room_by_location())
        found = [p for p in included if p.get("resourceType") == "Patient" and p.get("id") == appt.patient_id]
        if not found and appt.patient_id:
            found = [self.client.read("Patient", appt.patient_id).body]
        with reading("Patient"):
            return (m.patient_from_fhir(found[0], self.his), appt) if found else None

    def allocate_queue_number(self, department_code: str, day: date, *, checkin_id: str | None = None) -> int | None:
        """The number before the visit is recorded (``his.queue_numbers =
        "counter"``), or None when the HIS numbers visits itself."""
        return self.numbers.allocate(department_code, day, checkin_id)

    def record_visit(self, plan: VisitPlan) -> RecordedVisit:
        for attempt in range(RECORD_ATTEMPTS):
            last = attempt == RECORD_ATTEMPTS - 1
            try:
                enc, created = self.writer.write(plan)
                return self._recorded(enc, plan.appointment.id if plan.appointment else None, created)
            except HisOutcomeUnknown as exc:
                # The write may have happened: ask the HIS before sending anything again.
                log.warning("HIS answer lost or garbled; looking the visit up", extra={
                    "event": "his.outcome_unknown", "error": str(exc)[:200]})
                existing = self._settled(plan)
                if existing is not None:
                    return existing
                if last:
                    raise
            except HisConflict:
                # The appointment changed under us (or an earlier try already marked it arrived).
                existing = self._settled(plan)
                if existing is not None:
                    return existing
                if plan.appointment is None or last:
                    raise
                fresh = self.client.read("Appointment", plan.appointment.id).body
                appt = m.appointment_from_fhir(fresh, self.his, self._room_by_location())
                plan = dataclasses.replace(plan, appointment=appt)  # no longer booked: linked, not updated
        raise HisConflict("visit: still conflicting")

    def _settled(self, plan: VisitPlan) -> RecordedVisit | None:
        return self.settle_visit(plan.checkin_id)

    def find_visit(self, checkin_id: str) -> RecordedVisit | None:
        """The visit recorded for a check-in id, asked of the HIS itself; only
        reads (the phone pages' ``VisitFinder``, tests)."""
        return self._find(checkin_id)[0]

    def settle_visit(self, checkin_id: str) -> RecordedVisit | None:
        """The visit recorded for a check-in id, and what a try whose outcome
        was unknown may have left undone finished: the visit's appointment,
        still ``booked``, is marked arrived. Only retries and the outbox ask."""
        visit, appt_id = self._find(checkin_id)
        if visit is not None and appt_id:
            appointment = self.client.read("Appointment", appt_id).body
            if appointment.get("status") == "booked":
                self.writer.arrive(appointment)
        return visit

    def _find(self, checkin_id: str) -> tuple[RecordedVisit | None, str | None]:
        found, _ = self.client.search("Encounter", {"identifier": f"{self.his.checkin_system}|{checkin_id}"})
        if not found:
            return None, None
        enc = found[0]
        appt_id = m.ref_id(((enc.get("appointment") or [{}])[0]).get("reference"))
        return self._recorded(enc, appt_id, False), appt_id

    def _recorded(self, enc: dict, appointment_id: str | None, patient_created: bool) -> RecordedVisit:
        with reading("Encounter"):
            return self._visit_of(enc, appointment_id, patient_created)

    def _visit_of(self, enc: dict, appointment_id: str | None, patient_created: bool) -> RecordedVisit:
        queue = m.queue_of(enc, self.his)
        if queue is None:
            raise HisRefused('the HIS stored the visit without a queue number (his.queue_numbers = "his" expects '
                             'the HIS to number visits: ask the HIS team, or set his.queue_numbers = "counter")')
        dept = next((c.get("code") for c in (enc.get("serviceType") or {}).get("coding") or []
                     if c.get("system") == self.his.department_system), None)
        loc = ((enc.get("location") or [{}])[0].get("location") or {}).get("reference")
        priority = m.extension_value(enc, self.ext.queue_priority, "valueCode")
        return RecordedVisit(
            patient_id=m.ref_id((enc.get("subject") or {}).get("reference")) or "",
            encounter_id=enc["id"],
            appointment_id=appointment_id,
            queue_number=queue[0],
            queue_label=queue[1],
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
        patch_ok = self.capabilities.has("patch", probe=False)
        for _ in range(RELABEL_ATTEMPTS):
            enc = self.client.read("Encounter", encounter_id).body
            current = (m.queue_of(enc, self.his) or (0, ""))[1]
            if current == label or enc.get("status") != "arrived":
                return current
            ext = [e for e in enc.get("extension") or [] if e.get("url") not in (self.ext.queue_number, self.ext.queue_label)]
            idents = [i for i in enc.get("identifier") or [] if i.get("system") != self.his.queue_system]
            marks, identifier = m.queue_marks(self.his, self.ext, department_code, day, number, label)
            changed = dict(enc, extension=[*marks, *ext], identifier=[*idents, identifier])
            try:
                write_over(self.client, enc, changed, patch_allowed=patch_ok)
                return label
            except (HisConflict, HisOutcomeUnknown):
                continue
        raise HisConflict("relabel: the visit kept changing")

    # -- BHYT: the card's Coverage (fhir_his/coverage.py holds how it is written) --
    def record_coverage(self, encounter_id: str, patient_id: str, check, *, bill: bool) -> str:
        return bhyt.record_coverage(self.client, self.his, encounter_id, patient_id, check, bill=bill,
                                    patch_allowed=self.capabilities.has("patch", probe=False))

    def close(self) -> None:
        self.client.close()

    def ping(self) -> float:
        """Round-trip time of ``GET /metadata`` (the one request every FHIR server
        answers); raises HisUnavailable when down. When the server gave the
        statement an ETag or Last-Modified, the ping asks conditionally: an
        unchanged statement comes back as 304 with no body (plain HTTP, RFC 9110),
        so probing every few seconds does not fetch it again and again."""
        started = time.perf_counter()
        r = self.client.request("GET", "metadata", retries=0, headers=self._ping_validators, ok=(200, 304))
        if r.status == 200:
            self._ping_validators = {name: r.headers[field] for name, field in
                                     (("If-None-Match", "ETag"), ("If-Modified-Since", "Last-Modified"))
                                     if r.headers.get(field)}
        return time.perf_counter() - started


def _day_bounds(day: date, config: Config) -> tuple[datetime, datetime]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(config.kiosk.timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    return start, start + timedelta(days=1)
