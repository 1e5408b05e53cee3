"""The statistics' view of the HIS (``kiosk.stats.figures.VisitHistory``) over FHIR R4.

Searches ``Encounter?date=ge{start}&date=lt{end}&_count=N`` and
``Appointment?date=…`` and walks the result one page at a time, following the
Bundle's ``next`` link, handing each visit on as soon as its page arrives: a
day of 100,000 visits needs the memory of one page. (``FhirClient.search``
gathers every page into one list; this walks the same links with the same
client — auth, TLS, timeouts and retries included.) Search results are told
apart by ``resourceType``, never by ``search.mode``.

What is read, in the kiosk's own terms (``fhir_his.mapping.extensions``):
``checkin-channel``, ``checkin-mode``, ``queue-priority``, ``coverage``,
``called-at``, ``no-show``; ``Encounter.appointment`` (booked vs walk-in);
``period.start`` (arrival); ``statusHistory`` (the end of ``arrived`` or the
start of ``in-progress``: with the practitioner); ``period.end`` (finished).
The patient (``subject``) is not even asked for (``_elements``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from fhir_his.client import FhirClient
from fhir_his.his import FhirHis
from fhir_his.mapping import Extensions, extension_value, extensions, parse_datetime
from kiosk.config.loader import Config
from kiosk.domain import Department
from kiosk.stats.figures import UNKNOWN, AppointmentRecord, VisitRecord

PAGE_SIZE = 200
ENCOUNTER_ELEMENTS = "serviceType,period,extension,appointment,status,statusHistory"
APPOINTMENT_ELEMENTS = "serviceType,start,status"
STARTED = ("in-progress", "onleave", "finished")


def search_pages(client: FhirClient, resource_type: str, params: list[tuple[str, str]]) -> Iterator[list[dict]]:
    """Each page of a search as a list of its ``resource_type`` resources
    (included resources and OperationOutcomes are left out)."""
    r = client.request("GET", resource_type, params=params)
    while True:
        body = r.body or {}
        yield [e["resource"] for e in body.get("entry") or []
               if (e.get("resource") or {}).get("resourceType") == resource_type]
        nxt = next((ln.get("url") for ln in body.get("link") or [] if ln.get("relation") == "next"), None)
        if not nxt:
            return
        r = client.request("GET", nxt)


def _department(service_type, system: str) -> str:
    """The department code of an Encounter.serviceType (one CodeableConcept)
    or an Appointment.serviceType (a list of them)."""
    concepts = service_type if isinstance(service_type, list) else [service_type or {}]
    for concept in concepts:
        for coding in (concept or {}).get("coding") or []:
            if coding.get("system") == system and coding.get("code"):
                return coding["code"]
    return ""


def started_at(enc: dict) -> datetime | None:
    """When the visit went to the practitioner: the start of an ``in-progress``
    period in ``statusHistory``, else (when the visit is past ``arrived``) the
    end of its ``arrived`` period."""
    history = enc.get("statusHistory") or []
    for h in history:
        if h.get("status") == "in-progress":
            found = parse_datetime((h.get("period") or {}).get("start"))
            if found:
                return found
    if enc.get("status") in STARTED:
        for h in reversed(history):
            if h.get("status") == "arrived":
                return parse_datetime((h.get("period") or {}).get("end"))
    return None


def visit_record(enc: dict, ext: Extensions, department_system: str) -> VisitRecord | None:
    """The statistics' record of one Encounter, or None when it has no arrival time."""
    arrived = parse_datetime((enc.get("period") or {}).get("start"))
    status = enc.get("status") or UNKNOWN
    if arrived is None or arrived.tzinfo is None or status == "entered-in-error":
        return None
    started = started_at(enc)
    called = parse_datetime(extension_value(enc, ext.called_at, "valueDateTime")) or started
    finished = parse_datetime((enc.get("period") or {}).get("end")) if status == "finished" else None
    return VisitRecord(
        department=_department(enc.get("serviceType"), department_system),
        arrived_at=arrived,
        channel=extension_value(enc, ext.checkin_channel, "valueCode") or UNKNOWN,
        mode=extension_value(enc, ext.checkin_mode, "valueCode") or UNKNOWN,
        booked=bool(enc.get("appointment")),
        priority=extension_value(enc, ext.queue_priority, "valueCode"),
        insured=extension_value(enc, ext.coverage, "valueReference") is not None,
        status=status,
        called_at=called,
        started_at=started,
        finished_at=finished,
        no_show=extension_value(enc, ext.no_show, "valueDateTime") is not None,
    )


class FhirVisitHistory:
    """``kiosk.stats.figures.VisitHistory`` over a FHIR client."""

    def __init__(self, config: Config, client: FhirClient | None = None, *, page_size: int = PAGE_SIZE):
        self.config = config
        self.client = client or FhirClient(config.his)
        self.ext = extensions(config.his)
        self.page_size = page_size

    def departments(self) -> list[Department]:
        return FhirHis(self.config, self.client).list_departments()

    def _params(self, start: datetime, end: datetime, elements: str) -> list[tuple[str, str]]:
        return [("date", f"ge{start.isoformat()}"), ("date", f"lt{end.isoformat()}"),
                ("_count", str(self.page_size)), ("_elements", elements)]

    def visits(self, start: datetime, end: datetime) -> Iterator[VisitRecord]:
        system = self.config.his.department_system
        for page in search_pages(self.client, "Encounter", self._params(start, end, ENCOUNTER_ELEMENTS)):
            for enc in page:
                record = visit_record(enc, self.ext, system)
                if record is not None:
                    yield record

    def appointments(self, start: datetime, end: datetime) -> Iterator[AppointmentRecord]:
        system = self.config.his.department_system
        for page in search_pages(self.client, "Appointment", self._params(start, end, APPOINTMENT_ELEMENTS)):
            for appt in page:
                when = parse_datetime(appt.get("start"))
                if when is None or when.tzinfo is None:
                    continue
                yield AppointmentRecord(_department(appt.get("serviceType"), system), when,
                                        appt.get("status") or UNKNOWN)

    def close(self) -> None:
        self.client.close()
