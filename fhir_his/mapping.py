"""Mapping between FHIR R4 resources and the kiosk's domain objects.

The kiosk's own extensions live under ``his.kiosk_namespace`` (an https base
the hospital controls): ``{base}/StructureDefinition/queue-number`` and so on
(``extensions(his)``). Nothing the kiosk sends uses a made-up ``urn:``.

Names that enter the domain from the HIS (Patient names; HealthcareService
and Location names and descriptions) go through
``kiosk.identity.text_safety.from_system``: NFC, control and invisible
characters removed with an alarm to IT (log event ``text.hidden`` and
``kiosk_his_text_hidden_total``, naming the resource type and field, never
the value). The patient is never sent away for the HIS's data.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, fields
from datetime import date, datetime

from kiosk.config.loader import HisSection
from kiosk.domain import Appointment, ClinicRoom, Department, Identity, Patient, Priority, mask_name
from kiosk.identity.field_limits import bounded
from kiosk.identity.text_safety import from_system
from kiosk.ports import VisitPlan


@dataclass(frozen=True)
class Extensions:
    """The URLs of the kiosk's extensions ({his.kiosk_namespace}/StructureDefinition/NAME-WITH-DASHES; README, FHIR)."""

    queue_number: str  # Encounter: the queue number (valueInteger)
    queue_label: str  # Encounter: what the ticket prints, "012" or "K1-005" (valueString)
    queue_priority: str  # Encounter: social priority group of Law 15/2023 (valueCode)
    appointment_start: str  # Encounter: the booked slot, for queue order (valueDateTime)
    kiosk_id: str  # Encounter: which kiosk registered the visit (valueString)
    checkin_channel: str  # Encounter: how the patient identified themselves: chip, cccd_qr, … (valueCode)
    checkin_mode: str  # Encounter: online, or offline (queued at the kiosk, delivered later) (valueCode)
    coverage: str  # Encounter: the BHYT Coverage checked for this visit (valueReference)
    called_at: str  # Encounter: when the patient was last called to the room (valueDateTime)
    call_count: str  # Encounter: how many times they were called (valueInteger)
    no_show: str  # Encounter: called and did not come (valueDateTime)
    counter_value: str  # Basic: the daily queue-number counter (valueInteger)
    counter_checkin: str  # Basic: the check-in id that took the counter's current value (valueString)
    bhyt_five_years_from: str  # Coverage: 5 years' continuous participation from (ngayDu5Nam, valueDate)
    bhyt_area_code: str  # Coverage: the card's area code (maKV, valueString)


@functools.lru_cache(maxsize=8)
def _extensions(base: str) -> Extensions:
    return Extensions(**{f.name: f"{base}/StructureDefinition/{f.name.replace('_', '-')}"
                         for f in fields(Extensions)})


def extensions(his: HisSection) -> Extensions:
    return _extensions(his.kiosk_namespace.rstrip("/"))


def prune(value):
    """A copy of a JSON value without empty strings, lists or objects (FHIR's
    ele-1: every element has a value or children), recursively."""
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in ("", [], {}, None)}
    if isinstance(value, list):
        out = [prune(v) for v in value]
        return [v for v in out if v not in ("", [], {}, None)]
    return value


QUEUE_VALUE = re.compile(r"^(?P<dept>.+)-(?P<day>\d{8})-(?P<label>[^-].*)$")


def queue_marks(his: HisSection, urls: "Extensions", department_code: str, day: date, number: int,
                label: str) -> tuple[list[dict], dict]:
    """What carries a visit's queue number: the kiosk's two extensions and the
    identifier ``{his.queue_system}|DEPT-YYYYMMDD-LABEL`` (``queue_of`` reads them back)."""
    return ([{"url": urls.queue_number, "valueInteger": number}, {"url": urls.queue_label, "valueString": label}],
            {"system": his.queue_system, "value": f"{department_code}-{day:%Y%m%d}-{label}"})


def queue_of(enc: dict, his: HisSection) -> tuple[int, str] | None:
    """(number, label) of a visit: the kiosk's extensions, else the queue
    identifier ``{his.queue_system}|DEPT-YYYYMMDD-LABEL`` (a HIS that numbers
    visits itself writes only that). None when the visit has no number."""
    return queue_from(enc, extensions(his), his.queue_system)


def queue_from(enc: dict, urls: "Extensions", queue_system: str) -> tuple[int, str] | None:
    number = extension_value(enc, urls.queue_number, "valueInteger")
    label = bounded(extension_value(enc, urls.queue_label, "valueString"), "label")
    if isinstance(number, int) and number > 0:
        return number, label or f"{number:03d}"
    value = identifier_value(enc, queue_system) or ""
    m = QUEUE_VALUE.match(value)
    if not m:
        return None
    label = bounded(m.group("label"), "label")
    digits = label.rsplit("-", 1)[-1]
    return (int(digits) if digits.isdigit() else 0), label


def identifier_value(resource: dict, system: str) -> str | None:
    for ident in resource.get("identifier") or []:
        if ident.get("system") == system:
            return ident.get("value")
    return None


def extension_value(resource: dict, url: str, kind: str):
    for ext in resource.get("extension") or []:
        if ext.get("url") == url:
            return ext.get(kind)
    return None


def ref_id(reference: str | None) -> str | None:
    """'Patient/123' -> '123' (also for absolute URLs)."""
    if not reference:
        return None
    parts = reference.rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return parts[-1] if len(parts) >= 2 else None


def parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def parse_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def his_text(value, resource: str, field: str, kind: str) -> str | None:
    """A text from the HIS, safe to show, print and store: cut to the length bound of
    ``kind`` first (``field_limits.bounded``: a 50 MB name costs nothing more), then
    without hidden characters (``text_safety.from_system``, with its alarm to IT)."""
    return from_system(bounded(value, kind), "his", resource, field)


def patient_from_fhir(res: dict, his: HisSection) -> Patient:
    names = res.get("name") or [{}]
    name = names[0].get("text") or " ".join([names[0].get("family", ""), *names[0].get("given", [])]).strip()
    return Patient(
        id=res["id"],
        citizen_id=identifier_value(res, his.cccd_system),
        full_name=his_text(name, "Patient", "name", "name"),
        birth_date=parse_date(res.get("birthDate")),
        sex=res.get("gender"),
    )


def patient_to_fhir(identity: Identity, his: HisSection) -> dict:
    res: dict = {
        "resourceType": "Patient",
        "identifier": [{"system": his.cccd_system, "value": identity.citizen_id}],
        "active": True,
    }
    if identity.full_name:
        words = identity.full_name.split()
        res["name"] = [{"text": identity.full_name, "family": words[0], "given": words[1:]}]
    if identity.sex:
        res["gender"] = identity.sex
    if identity.birth_date:
        res["birthDate"] = identity.birth_date.isoformat()
    if identity.address:
        res["address"] = [{"text": identity.address, "country": "VN"}]
    return prune(res)


def appointment_from_fhir(res: dict, his: HisSection, room_by_location: dict[str, str]) -> Appointment:
    patient_id = room_code = None
    for part in res.get("participant") or []:
        ref = (part.get("actor") or {}).get("reference") or ""
        if ref.startswith("Patient/"):
            patient_id = ref_id(ref)
        elif ref.startswith("Location/"):
            room_code = room_by_location.get(ref_id(ref) or "")
    dept = None
    for st in res.get("serviceType") or []:
        for coding in st.get("coding") or []:
            if coding.get("system") == his.department_system:
                dept = bounded(coding.get("code"), "code")
    return Appointment(
        id=res["id"],
        patient_id=patient_id or "",
        start=parse_datetime(res.get("start")),
        status=res.get("status", ""),
        version_id=(res.get("meta") or {}).get("versionId"),
        department_code=dept,
        room_code=room_code,
        resource=res,
    )


def departments_from_fhir(services: list[dict], locations: list[dict], his: HisSection) -> list[Department]:
    loc_by_id = {loc["id"]: loc for loc in locations}
    out = []
    for svc in services:
        code = identifier_value(svc, his.department_system)
        if not code:
            continue
        rooms = []
        for ref in svc.get("location") or []:
            loc = loc_by_id.get(ref_id(ref.get("reference")) or "")
            if loc and loc.get("status", "active") == "active":
                rooms.append(ClinicRoom(
                    code=bounded(identifier_value(loc, his.room_system) or loc["id"], "code"),
                    name=his_text(loc.get("name"), "Location", "name", "room") or "",
                    where=his_text(loc.get("description"), "Location", "description", "where") or "",
                    location_id=loc["id"],
                ))
        code = bounded(code, "code")
        out.append(Department(code=code, name=his_text(svc.get("name", code), "HealthcareService", "name",
                                                       "department") or code,
                              rooms=tuple(rooms), service_id=svc.get("id"),
                              name_en=his_text(svc.get("comment"), "HealthcareService", "comment", "department") or "",
                              opening_hours=his_text(svc.get("extraDetails"), "HealthcareService", "extraDetails",
                                                     "hours") or ""))
    return sorted(out, key=lambda d: d.name)


def encounter_to_fhir(plan: VisitPlan, patient_ref: str, his: HisSection, kiosk_id: str) -> dict:
    dept, room = plan.department, plan.room
    urls = extensions(his)
    ext, queue_id = [], []
    if plan.queue_number is not None:  # None: the HIS numbers the visit when it registers it
        ext, identifier = queue_marks(his, urls, dept.code, plan.day, plan.queue_number, plan.queue_label)
        queue_id = [identifier]
    if kiosk_id:
        ext.append({"url": urls.kiosk_id, "valueString": kiosk_id})
    ext.append({"url": urls.checkin_channel, "valueCode": plan.identity.source.value})
    ext.append({"url": urls.checkin_mode, "valueCode": plan.mode})
    if plan.priority:
        ext.append({"url": urls.queue_priority, "valueCode": plan.priority.value})
    if plan.appointment and plan.appointment.start:
        ext.append({"url": urls.appointment_start, "valueDateTime": plan.appointment.start.isoformat()})
    enc: dict = {
        "resourceType": "Encounter",
        "extension": ext,
        "identifier": [{"system": his.checkin_system, "value": plan.checkin_id}, *queue_id],
        "status": "arrived",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB",
                  "display": "ambulatory"},
        "serviceType": {"coding": [{"system": his.department_system, "code": dept.code, "display": dept.name}]},
        "subject": {"reference": patient_ref, "display": mask_name(plan.identity.full_name)},
        "period": {"start": plan.arrived_at.isoformat()},
        "location": [{"location": {"reference": f"Location/{room.location_id}", "display": room.name},
                      "status": "planned"}] if room.location_id else [],
    }
    if plan.priority is Priority.EMERGENCY:  # clinical urgency; the social groups are only the extension above
        enc["priority"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActPriority",
                                       "code": "EM", "display": "emergency"}]}
    if plan.appointment:
        enc["appointment"] = [{"reference": f"Appointment/{plan.appointment.id}"}]
    return prune(enc)
