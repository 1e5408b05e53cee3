"""The calling board's HIS access over FHIR R4 (``kiosk.board.BoardHis``).

Reading: one search for all the board's rooms —
``Encounter?location=Location/a,Location/b&date=ge{day}&date=lt{next day}`` for
the whole day, ``&_lastUpdated=ge{since}`` for what changed — mapped to
``kiosk.board.Visit``s. Writing: a call, a repeated call, a finished visit or
a no-show is a PUT of the Encounter with ``If-Match`` on the version the board
read; a 412 (someone else changed it) surfaces as ``HisConflict`` and the
caller re-reads.

How a call is recorded on the Encounter (a HIS's own screen that only sets
``in-progress`` works too):
- ``status`` ``in-progress``; ``statusHistory`` gets the ``arrived`` period;
- extension ``called-at`` (valueDateTime) and ``call-count`` (valueInteger,
  +1 on every recall);
- a no-show (``kiosk skip``) becomes ``cancelled`` with extension ``no-show``
  (valueDateTime).
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from ..board import CALLED, CALLED_STATUSES, Visit, VisitUpdate
from ..config import Config
from ..domain import ClinicRoom, Department, Priority
from ..errors import HisConflict
from .client import FhirClient, version_of
from .his import FhirHis
from .mapping import (
    EXT_APPOINTMENT_START,
    EXT_CALL_COUNT,
    EXT_CALLED_AT,
    EXT_NO_SHOW,
    EXT_QUEUE_LABEL,
    EXT_QUEUE_NUMBER,
    EXT_QUEUE_PRIORITY,
    extension_value,
    parse_datetime,
    ref_id,
)

POLL_READ_TIMEOUT_S = 5.0  # a hanging HIS shows the banner within seconds; the next poll is the retry


def poll_client(config: Config) -> FhirClient:
    """The poller's own HIS client: no retries inside a poll (the next poll
    retries) and a short read timeout, so an outage shows at once."""
    his = dataclasses.replace(config.his, retries=0,
                              read_timeout_s=min(config.his.read_timeout_s, POLL_READ_TIMEOUT_S))
    return FhirClient(his)


def visit_from_encounter(enc: dict, room_by_location: dict[str, str]) -> Visit | None:
    """A Visit for an Encounter in one of the board's rooms, else None."""
    room = None
    for loc in enc.get("location") or []:
        room = room_by_location.get(ref_id((loc.get("location") or {}).get("reference")) or "")
        if room:
            break
    arrived = parse_datetime((enc.get("period") or {}).get("start"))
    if room is None or arrived is None or not enc.get("id"):
        return None
    number = extension_value(enc, EXT_QUEUE_NUMBER, "valueInteger")
    label = extension_value(enc, EXT_QUEUE_LABEL, "valueString") or (f"{number:03d}" if number else "")
    if not label:
        return None
    prio = extension_value(enc, EXT_QUEUE_PRIORITY, "valueCode")
    meta = enc.get("meta") or {}
    last_updated = parse_datetime(meta.get("lastUpdated"))
    status = enc.get("status", "")
    called_at = parse_datetime(extension_value(enc, EXT_CALLED_AT, "valueDateTime"))
    if called_at is None and status in CALLED_STATUSES and status != "cancelled":
        # called by the HIS's own screen: when in-progress started, else the last change
        for h in enc.get("statusHistory") or []:
            if h.get("status") == "in-progress":
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
        appointment_start=parse_datetime(extension_value(enc, EXT_APPOINTMENT_START, "valueDateTime")),
        called_at=called_at,
        call_count=int(extension_value(enc, EXT_CALL_COUNT, "valueInteger") or (1 if called_at else 0)),
        no_show=extension_value(enc, EXT_NO_SHOW, "valueDateTime") is not None,
        masked_name=(enc.get("subject") or {}).get("display", ""),
    )


def visits_of(encounters: list[dict], rooms: list[ClinicRoom]) -> VisitUpdate:
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
        visit = visit_from_encounter(enc, by_location)
        if visit is None:
            if enc.get("id"):
                gone.append(enc["id"])
            continue
        visits.append(visit)
    return VisitUpdate(tuple(visits), tuple(gone), newest)


def with_call(enc: dict, now: datetime, *, status: str = CALLED, recall: bool = False) -> dict:
    """A copy of ``enc`` recording a call (or a recall) at ``now``."""
    enc = dict(enc)
    exts = [e for e in enc.get("extension") or [] if e.get("url") not in (EXT_CALLED_AT, EXT_CALL_COUNT)]
    count = int(extension_value(enc, EXT_CALL_COUNT, "valueInteger") or 0)
    exts += [{"url": EXT_CALLED_AT, "valueDateTime": now.isoformat()},
             {"url": EXT_CALL_COUNT, "valueInteger": count + 1 if recall or count else 1}]
    enc["extension"] = exts
    if not recall:
        enc = with_status(enc, status, now)
    return enc


def with_status(enc: dict, status: str, now: datetime, *, no_show: bool = False) -> dict:
    """A copy of ``enc`` moved to ``status`` at ``now``, keeping the previous
    status's period in ``statusHistory`` (FHIR R4 Encounter.statusHistory)."""
    enc = dict(enc)
    old = enc.get("status")
    history = list(enc.get("statusHistory") or [])
    since = _status_since(enc, old)
    if old and old != status:
        period = {"start": since, "end": now.isoformat()} if since else {"end": now.isoformat()}
        history.append({"status": old, "period": period})
    enc["statusHistory"] = history
    enc["status"] = status
    if no_show:
        enc["extension"] = [*(enc.get("extension") or []), {"url": EXT_NO_SHOW, "valueDateTime": now.isoformat()}]
    if status in ("finished", "cancelled"):
        enc["period"] = {**(enc.get("period") or {}), "end": now.isoformat()}
    if status == CALLED and enc.get("location"):
        enc["location"] = [{**enc["location"][0], "status": "active"}, *enc["location"][1:]]
    elif status in ("finished", "cancelled") and enc.get("location"):
        enc["location"] = [{**enc["location"][0], "status": "completed"}, *enc["location"][1:]]
    return enc


def _status_since(enc: dict, status: str | None) -> str:
    history = enc.get("statusHistory") or []
    if history:
        return (history[-1].get("period") or {}).get("end") or ""
    if status == CALLED:
        return extension_value(enc, EXT_CALLED_AT, "valueDateTime") or ""
    return (enc.get("period") or {}).get("start", "")


def _location_param(rooms: list[ClinicRoom]) -> str:
    return ",".join(f"Location/{r.location_id}" for r in rooms if r.location_id)


def day_params(now: datetime) -> list[tuple[str, str]]:
    """``date`` bounds of the day ``now`` falls in, in ``now``'s timezone."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [("date", f"ge{start.isoformat()}"), ("date", f"lt{(start + timedelta(days=1)).isoformat()}")]


class FhirBoardHis:
    """``kiosk.board.BoardHis`` over a FHIR client. Keeps the Encounters of its
    last reads so that a write sends back exactly the version it was decided on."""

    def __init__(self, config: Config, client: FhirClient | None = None):
        self.config = config
        self.client = client or FhirClient(config.his)
        self._raw: dict[str, dict] = {}

    def departments(self) -> list[Department]:
        return FhirHis(self.config, self.client).list_departments()

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
        update = visits_of(encounters, rooms)
        by_id = {enc.get("id"): enc for enc in encounters}
        for visit in update.visits:
            self._raw[visit.id] = by_id[visit.id]
        return update

    def _put(self, visit_id: str, change) -> None:
        enc = self._raw.get(visit_id)
        if enc is None:
            raise HisConflict(f"visit {visit_id} has not been read by this board")
        updated = change(enc)
        r = self.client.update(updated, if_match=version_of(enc))
        self._raw[visit_id] = r.body or updated

    def call(self, visit_id: str, at: datetime, *, recall: bool = False) -> None:
        self._put(visit_id, lambda enc: with_call(enc, at, recall=recall))

    def finish(self, visit_id: str, at: datetime) -> None:
        self._put(visit_id, lambda enc: with_status(enc, "finished", at))

    def mark_no_show(self, visit_id: str, at: datetime) -> None:
        self._put(visit_id, lambda enc: with_status(enc, "cancelled", at, no_show=True))

    def close(self) -> None:
        self.client.close()
