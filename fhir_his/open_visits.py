"""Today's open visits of the patients a lookup found (``kiosk.repeat_visits``).

A visit is open while its Encounter is ``arrived``, ``triaged`` or
``in-progress``; it is today's when its ``period.start`` falls on the day in
the hospital's time zone. The visits come with the patient search
(``_revinclude=Encounter:patient``, only where the CapabilityStatement declares
it) or from one more search for the patients found. Either way every Encounter
is checked against what was asked — its subject is one of these patients, its
start is today, its status is open, it names a department — and never taken on
the strength of the server's filtering (a server may ignore a parameter).
"""
from __future__ import annotations

from datetime import datetime

from fhir_his import mapping as m
from kiosk.config.schema import HisSection
from kiosk.domain import OpenVisit, Priority

OPEN_STATUSES = ("arrived", "triaged", "in-progress")
REVINCLUDE = "Encounter:patient"  # Encounter:subject may name a Group too: a server may not resolve it


def search_params(patient_ids: list[str], start: datetime, end: datetime) -> list[tuple[str, str]]:
    """The Encounter search for the patients' open visits of the day."""
    return [("subject", ",".join(f"Patient/{pid}" for pid in patient_ids)),
            ("date", f"ge{start.isoformat()}"), ("date", f"lt{end.isoformat()}"),
            ("status", ",".join(OPEN_STATUSES)), ("_count", "100")]


def open_visits(resources: list[dict], patient_ids: set[str], start: datetime, end: datetime,
                his: HisSection, rooms: dict[str, str]) -> dict[str, list[OpenVisit]]:
    """The open visits of the day among ``resources``, by patient id (earliest
    first); ``rooms`` gives the room code of a Location id."""
    ext = m.extensions(his)
    out: dict[str, list[tuple[datetime, OpenVisit]]] = {}
    for enc in resources:
        if not isinstance(enc, dict) or enc.get("resourceType") != "Encounter" or not enc.get("id"):
            continue
        if enc.get("status") not in OPEN_STATUSES:
            continue
        subject = (enc.get("subject") or {}).get("reference") or ""
        pid = m.ref_id(subject)
        if not subject.startswith("Patient/") or pid not in patient_ids:
            continue
        begun = m.parse_datetime((enc.get("period") or {}).get("start"))
        if begun is None or begun.tzinfo is None or not start <= begun < end:
            continue
        dept = next((c.get("code") for c in (enc.get("serviceType") or {}).get("coding") or []
                     if isinstance(c, dict) and c.get("system") == his.department_system and c.get("code")), None)
        queue = m.queue_of(enc, his)
        if dept is None or queue is None:
            continue
        loc = ((enc.get("location") or [{}])[0].get("location") or {}).get("reference")
        priority = m.extension_value(enc, ext.queue_priority, "valueCode")
        visit = OpenVisit(
            encounter_id=enc["id"], patient_id=pid, department_code=dept, queue_number=queue[0],
            queue_label=queue[1], checkin_id=m.identifier_value(enc, his.checkin_system),
            room_code=rooms.get(m.ref_id(loc) or ""), priority=Priority(priority) if priority in Priority._value2member_map_ else None,
            booked=bool(enc.get("appointment")))
        out.setdefault(pid, []).append((begun, visit))
    return {pid: [v for _, v in sorted(found, key=lambda x: x[0])] for pid, found in out.items()}
