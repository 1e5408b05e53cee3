"""The calling board's HIS access over FHIR R4 (``kiosk.board.model.BoardHis``).

Reading: one search for all the board's rooms —
``Encounter?location=Location/a,Location/b&date=ge{day}&date=lt{next day}`` for
the whole day, ``&_lastUpdated=ge{since}`` for what changed — mapped to
``kiosk.board.model.Visit``s. Writing: every change is written over exactly what the
board read (``fhir_his.guarded_write``): a PUT with ``If-Match`` on its
version, or on a HIS without versions a JSON Patch whose ``test`` is the
compare-and-set; a conflict surfaces as ``HisConflict`` and the caller re-reads.

What each action records, in R4's own terms:

- **call** — the Encounter stays ``arrived`` ("present, not yet with a
  practitioner"); the call is recorded in the extensions ``called-at``
  (valueDateTime) and ``call-count`` (+1 on every recall);
- **start** — ``in-progress`` (with the practitioner); the ``arrived`` period
  goes to ``statusHistory``, the room's ``location.status`` becomes ``active``;
- **finish** — ``finished`` with ``period.end``; its Appointment becomes
  ``fulfilled``;
- **no-show** — the Encounter keeps ``arrived`` and gets the ``no-show``
  extension (valueDateTime) so it leaves the queue; its Appointment becomes
  ``noshow``. (``cancelled`` would say the visit ended before it began.)

A HIS's own screen that only moves the Encounter to ``in-progress`` is read as
a call too (its time from ``statusHistory`` or ``meta.lastUpdated``).
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from fhir_his.client import FhirClient
from fhir_his.guarded_write import after_write, write_over
from fhir_his.his import FhirHis
from fhir_his.mapping import (
    Extensions,
    extension_value,
    extensions,
    parse_datetime,
    queue_from,
    ref_id,
)
from fhir_his.replies import reading
from kiosk.board.model import ARRIVED, IN_PROGRESS, Visit, VisitUpdate
from kiosk.config.loader import Config
from kiosk.domain import ClinicRoom, Department, Priority
from kiosk.errors import HisConflict, HisOutcomeUnknown
from kiosk.identity.field_limits import bounded

POLL_READ_TIMEOUT_S = 5.0  # a hanging HIS shows the banner within seconds; the next poll is the retry
APPOINTMENT_ATTEMPTS = 3


def poll_client(config: Config) -> FhirClient:
    """The poller's own HIS client: no retries inside a poll (the next poll
    retries) and a short read timeout, so an outage shows at once."""
    his = dataclasses.replace(config.his, retries=0,
                              read_timeout_s=min(config.his.read_timeout_s, POLL_READ_TIMEOUT_S))
    return FhirClient(his)


def visit_from_encounter(enc: dict, room_by_location: dict[str, str], ext: Extensions,
                         queue_system: str = "") -> Visit | None:
    """A Visit for an Encounter in one of the board's rooms, else None. The
    number comes from the kiosk's extensions, else from the queue identifier
    (``queue_system``) a HIS that numbers visits writes."""
    room = None
    for loc in enc.get("location") or []:
        room = room_by_location.get(ref_id((loc.get("location") or {}).get("reference")) or "")
        if room:
            break
    arrived = parse_datetime((enc.get("period") or {}).get("start"))
    if room is None or arrived is None or not enc.get("id"):
        return None
    queue = queue_from(enc, ext, queue_system)
    if queue is None or not queue[1]:
        return None
    number, label = queue
    prio = extension_value(enc, ext.queue_priority, "valueCode")
    meta = enc.get("meta") or {}
    last_updated = parse_datetime(meta.get("lastUpdated"))
    status = enc.get("status", "")
    called_at = parse_datetime(extension_value(enc, ext.called_at, "valueDateTime"))
    if called_at is None and status in (IN_PROGRESS, "onleave", "finished"):
        # started by the HIS's own screen without a call: when in-progress began, else the last change
        for h in enc.get("statusHistory") or []:
            if h.get("status") == IN_PROGRESS:
                called_at = parse_datetime((h.get("period") or {}).get("start"))
        called_at = called_at or last_updated
    try:
        priority = Priority(prio) if prio else None
    except ValueError:
        priority = None
    return Visit(
        id=enc["id"], version_id=meta.get("versionId"), status=status, room_code=room,
        number=int(number or 0), label=label, arrived_at=arrived, last_updated=last_updated,
        priority=priority,
        appointment_start=parse_datetime(extension_value(enc, ext.appointment_start, "valueDateTime")),
        called_at=called_at,
        call_count=int(extension_value(enc, ext.call_count, "valueInteger") or (1 if called_at else 0)),
        no_show=extension_value(enc, ext.no_show, "valueDateTime") is not None,
        masked_name=bounded((enc.get("subject") or {}).get("display", ""), "masked_name"),
    )


def visits_of(encounters: list[dict], rooms: list[ClinicRoom], ext: Extensions,
              queue_system: str = "") -> VisitUpdate:
    """The board's view of a search result: visits in ``rooms``, the ids of the
    others, and the newest ``meta.lastUpdated`` seen."""
    by_location = {r.location_id: r.code for r in rooms if r.location_id}
    visits, gone, newest = [], [], None
    for enc in encounters:
        if enc.get("resourceType", "Encounter") != "Encounter":
            continue
        changed = parse_datetime((enc.get("meta") or {}).get("lastUpdated"))
        if changed and (newest is None or changed > newest):
            newest = changed
        visit = visit_from_encounter(enc, by_location, ext, queue_system)
        if visit is None:
            if enc.get("id"):
                gone.append(enc["id"])
            continue
        visits.append(visit)
    return VisitUpdate(tuple(visits), tuple(gone), newest)


def with_call(enc: dict, now: datetime, ext: Extensions, *, recall: bool = False) -> dict:
    """A copy of ``enc`` recording a call (or a recall) at ``now``; the status does not change."""
    enc = dict(enc)
    count = int(extension_value(enc, ext.call_count, "valueInteger") or 0)
    exts = [e for e in enc.get("extension") or [] if e.get("url") not in (ext.called_at, ext.call_count)]
    exts += [{"url": ext.called_at, "valueDateTime": now.isoformat()},
             {"url": ext.call_count, "valueInteger": count + 1 if recall or count else 1}]
    enc["extension"] = exts
    return enc


def with_status(enc: dict, status: str, now: datetime) -> dict:
    """A copy of ``enc`` moved to ``status`` at ``now``, keeping the previous
    status's period in ``statusHistory`` (R4 Encounter.statusHistory)."""
    enc = dict(enc)
    old = enc.get("status")
    history = list(enc.get("statusHistory") or [])
    if old and old != status:
        since = (history[-1].get("period") or {}).get("end") if history else (enc.get("period") or {}).get("start")
        period = {"start": since, "end": now.isoformat()} if since else {"end": now.isoformat()}
        history.append({"status": old, "period": period})
    if history:
        enc["statusHistory"] = history
    enc["status"] = status
    if status == "finished":
        enc["period"] = {**(enc.get("period") or {}), "end": now.isoformat()}
    location_status = {IN_PROGRESS: "active", "finished": "completed"}.get(status)
    if location_status and enc.get("location"):
        enc["location"] = [{**enc["location"][0], "status": location_status}, *enc["location"][1:]]
    return enc


def with_no_show(enc: dict, now: datetime, ext: Extensions) -> dict:
    enc = dict(enc)
    enc["extension"] = [*(e for e in enc.get("extension") or [] if e.get("url") != ext.no_show),
                        {"url": ext.no_show, "valueDateTime": now.isoformat()}]
    return enc


def _location_param(rooms: list[ClinicRoom]) -> str:
    return ",".join(f"Location/{r.location_id}" for r in rooms if r.location_id)


def day_params(now: datetime) -> list[tuple[str, str]]:
    """``date`` bounds of the day ``now`` falls in, in ``now``'s timezone."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [("date", f"ge{start.isoformat()}"), ("date", f"lt{(start + timedelta(days=1)).isoformat()}")]


class FhirBoardHis:
    """``kiosk.board.model.BoardHis`` over a FHIR client. Keeps the Encounters of its
    last reads so that a write sends back exactly the version it was decided on."""

    def __init__(self, config: Config, client: FhirClient | None = None):
        self.config = config
        self.client = client or FhirClient(config.his)
        self.ext = extensions(config.his)
        self._raw: dict[str, dict] = {}
        self._his = FhirHis(config, self.client)

    def departments(self, *, fresh: bool = False) -> list[Department]:
        return self._his.list_departments(reread=fresh)

    def read_day(self, rooms: list[ClinicRoom], now: datetime) -> VisitUpdate:
        found, _ = self.client.search("Encounter", [("location", _location_param(rooms)), *day_params(now),
                                                    ("_count", "1000")])
        return self._update(found, rooms)

    def read_changes(self, rooms: list[ClinicRoom], since: datetime) -> VisitUpdate:
        found, _ = self.client.search("Encounter", [
            ("location", _location_param(rooms)), ("_lastUpdated", f"ge{since.isoformat(timespec='milliseconds')}"),
            ("_count", "1000")])
        return self._update(found, rooms)

    def _update(self, encounters: list[dict], rooms: list[ClinicRoom]) -> VisitUpdate:
        with reading("Encounter search"):
            update = visits_of(encounters, rooms, self.ext, self.config.his.queue_system)
        by_id = {enc.get("id"): enc for enc in encounters}
        for visit in update.visits:
            self._raw[visit.id] = by_id[visit.id]
        return update

    def _put(self, visit_id: str, change) -> dict:
        enc = self._raw.get(visit_id)
        if enc is None:
            raise HisConflict(f"visit {visit_id} has not been read by this board")
        updated = change(enc)
        r = write_over(self.client, enc, updated, patch_allowed=self._patch_allowed())
        now = after_write(r, updated)
        if now is None:
            self._raw.pop(visit_id, None)  # the next change re-reads it
        else:
            self._raw[visit_id] = now
        return updated

    def _patch_allowed(self) -> bool:
        return self._his.capabilities.has("patch", probe=False)

    def _appointment(self, enc: dict, status: str) -> None:
        """Move the visit's Appointment (if any) to ``status``, re-reading it on a conflict."""
        appt_id = ref_id(((enc.get("appointment") or [{}])[0]).get("reference"))
        if not appt_id:
            return
        for _ in range(APPOINTMENT_ATTEMPTS):
            appt = self.client.read("Appointment", appt_id).body
            if appt.get("status") in (status, "cancelled", "entered-in-error"):
                return
            try:
                write_over(self.client, appt, dict(appt, status=status), patch_allowed=self._patch_allowed())
                return
            except (HisConflict, HisOutcomeUnknown):
                continue
        raise HisConflict(f"appointment {appt_id}: kept changing")

    def call(self, visit_id: str, at: datetime, *, recall: bool = False) -> None:
        self._put(visit_id, lambda enc: with_call(enc, at, self.ext, recall=recall))

    def start(self, visit_id: str, at: datetime) -> None:
        self._put(visit_id, lambda enc: with_status(enc, IN_PROGRESS, at))

    def finish(self, visit_id: str, at: datetime) -> None:
        enc = self._put(visit_id, lambda enc: with_status(enc, "finished", at))
        self._appointment(enc, "fulfilled")

    def mark_no_show(self, visit_id: str, at: datetime) -> None:
        enc = self._put(visit_id, lambda enc: with_no_show(enc, at, self.ext))
        self._appointment(enc, "noshow")

    def close(self) -> None:
        self.client.close()


__all__ = ["ARRIVED", "FhirBoardHis", "poll_client", "visit_from_encounter", "visits_of", "with_call",
           "with_no_show", "with_status"]
