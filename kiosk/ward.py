"""What a ward board shows, built from the HIS's Encounters — without Qt.

The board model keeps today's visits of its rooms (one ``Visit`` per FHIR
Encounter, see docs in ``kiosk.fhir.mapping``), merges changes as the poller
fetches them, and produces immutable ``BoardSnapshot``s: per room the number
being served, the next numbers in call order (``kiosk.queue_order``) and the
last few called. It also detects *new calls* — an Encounter that became
``in-progress``, or was called again (``kiosk recall``) — which the board
flashes and the announcer speaks.

How a call is recorded on the Encounter (written by ``kiosk.ward_his``; a
HIS's own screen that only sets ``in-progress`` works too):
- ``status`` ``in-progress``; ``statusHistory`` gets the ``arrived`` period;
- extension ``urn:kiosk:called-at`` (valueDateTime) and ``urn:kiosk:call-count``
  (valueInteger, +1 on every recall);
- a no-show (``kiosk skip``) becomes ``cancelled`` with extension
  ``urn:kiosk:no-show`` (valueDateTime): the Encounter "ended before it began".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from . import messages
from .domain import ClinicRoom, Priority
from .fhir.mapping import (
    EXT_APPOINTMENT_START,
    EXT_QUEUE_LABEL,
    EXT_QUEUE_NUMBER,
    EXT_QUEUE_PRIORITY,
    extension_value,
    parse_datetime,
    ref_id,
)
from .queue_order import WaitingVisit, interleave_credit, order_queue

messages.register({
    "board.serving": {"vi": "ĐANG KHÁM", "en": "NOW SERVING"},
    "board.next": {"vi": "SỐ TIẾP THEO", "en": "NEXT"},
    "board.recent": {"vi": "ĐÃ GỌI", "en": "CALLED"},
    "board.none": {"vi": "—", "en": "—"},
    "board.waiting_more": {"vi": "+{count} số đang chờ", "en": "+{count} more waiting"},
    "board.waiting_count": {"vi": "{count} người đang chờ", "en": "{count} waiting"},
    "board.stale": {"vi": "Chưa cập nhật từ {time} — đang kết nối lại hệ thống bệnh viện",
                    "en": "Not updated since {time} — reconnecting to the hospital system"},
    "board.absent": {"vi": "vắng", "en": "absent"},
    "board.all_rooms": {"vi": "Các phòng khám", "en": "Clinic rooms"},
    "board.priority_legend": {"vi": "{mark} ưu tiên", "en": "{mark} priority"},
    "board.call_next": {"vi": "Gọi tiếp", "en": "Call next"},
    "board.recall": {"vi": "Gọi lại", "en": "Call again"},
    "board.skip": {"vi": "Vắng mặt", "en": "No-show"},
    "board.calling": {"vi": "Mời số {label} vào {room}", "en": "Number {label}, please go to {room}"},
    "board.nothing_called": {"vi": "Phòng này chưa gọi số nào.", "en": "This room has not called anyone yet."},
})

EXT_CALLED_AT = "urn:kiosk:called-at"
EXT_CALL_COUNT = "urn:kiosk:call-count"
EXT_NO_SHOW = "urn:kiosk:no-show"

ANNOUNCE_WITHIN = timedelta(minutes=10)  # generous: the caller's clock may differ a little
WAITING = "arrived"
CALLED = "in-progress"
CALLED_STATUSES = ("in-progress", "onleave", "finished", "cancelled")


@dataclass(frozen=True)
class Visit:
    """One Encounter as the board needs it (no names beyond the masked one)."""

    id: str
    version_id: str | None
    status: str
    room_code: str
    number: int
    label: str
    arrived_at: datetime
    last_updated: datetime | None
    priority: Priority | None = None
    appointment_start: datetime | None = None
    called_at: datetime | None = None
    call_count: int = 0
    no_show: bool = False
    masked_name: str = field(default="", repr=False)

    @property
    def waiting(self) -> bool:
        return self.status == WAITING

    @property
    def was_called(self) -> bool:
        return self.called_at is not None and self.status in CALLED_STATUSES

    @property
    def call_key(self) -> tuple:
        """Changes whenever the visit is called (again)."""
        return (self.id, self.called_at, self.call_count)

    def as_waiting(self) -> WaitingVisit:
        return WaitingVisit(visit_id=self.id, number=self.number, label=self.label,
                            arrived_at=self.arrived_at, priority=self.priority,
                            appointment_start=self.appointment_start, masked_name=self.masked_name)


def visit_from_encounter(enc: dict, room_by_location: dict[str, str]) -> Visit | None:
    """A Visit for an Encounter in one of the board's rooms, else None."""
    room = None
    for loc in enc.get("location") or []:
        room = room_by_location.get(ref_id((loc.get("location") or {}).get("reference")) or "")
        if room:
            break
    arrived = parse_datetime((enc.get("period") or {}).get("start"))
    if room is None or arrived is None:
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


@dataclass(frozen=True)
class ShownNumber:
    visit_id: str
    label: str
    masked_name: str = field(default="", repr=False)
    priority: Priority | None = None
    called_at: datetime | None = None
    no_show: bool = False


@dataclass(frozen=True)
class RoomView:
    code: str
    name: str
    serving: ShownNumber | None
    waiting: tuple[ShownNumber, ...]
    waiting_total: int
    recent: tuple[ShownNumber, ...]


@dataclass(frozen=True)
class Call:
    """A new call to announce and flash."""

    room_code: str
    room_name: str
    label: str
    visit_id: str
    call_count: int


@dataclass(frozen=True)
class BoardSnapshot:
    rooms: tuple[RoomView, ...]
    updated_at: datetime | None  # last successful read of the HIS
    stale: bool  # the last read failed: show "not updated since"
    problem: str = ""  # technical text for the log (no personal data)

    def room(self, code: str) -> RoomView | None:
        return next((r for r in self.rooms if r.code == code), None)


class WardModel:
    """Today's visits of the board's rooms. Not thread-safe: the poller thread
    owns it and hands out immutable snapshots."""

    def __init__(self, rooms: list[ClinicRoom], *, interleave: int, booking_grace_min: float = 15.0,
                 next_count: int = 4, recent_count: int = 3, show_names: bool = True,
                 timezone: str = "Asia/Ho_Chi_Minh"):
        self.rooms = list(rooms)
        self.room_by_location = {r.location_id: r.code for r in rooms if r.location_id}
        self.interleave = interleave
        self.grace = timedelta(minutes=booking_grace_min)
        self.next_count = next_count
        self.recent_count = recent_count
        self.show_names = show_names
        self.tz = ZoneInfo(timezone)
        self.visits: dict[str, Visit] = {}
        self.day: date | None = None
        self.max_last_updated: datetime | None = None
        self._announced: set[tuple] = set()
        self._primed = False

    # --- changes ---
    def replace_all(self, encounters: list[dict], day: date, now: datetime | None = None) -> list[Call]:
        """A full read of the rooms' visits of ``day``."""
        if day != self.day:
            self._announced.clear()
        self.day = day
        self.visits = {}
        return self._merge(encounters, now)

    def merge(self, encounters: list[dict], now: datetime | None = None) -> list[Call]:
        """Changed Encounters since the last read (``_lastUpdated``)."""
        return self._merge(encounters, now)

    def _merge(self, encounters: list[dict], now: datetime | None) -> list[Call]:
        fresh: list[Visit] = []
        for enc in encounters:
            v = visit_from_encounter(enc, self.room_by_location)
            if v is None:
                self.visits.pop(enc.get("id", ""), None)  # moved out of the board's rooms
                continue
            if v.last_updated and (self.max_last_updated is None or v.last_updated > self.max_last_updated):
                self.max_last_updated = v.last_updated
            if self.day and v.arrived_at.astimezone(self.tz).date() != self.day:
                self.visits.pop(v.id, None)  # yesterday's visit that changed today
                continue
            old = self.visits.get(v.id)
            if old and old.version_id == v.version_id:
                continue
            self.visits[v.id] = v
            fresh.append(v)
        calls = []
        for v in sorted(fresh, key=lambda v: v.called_at or v.arrived_at):
            if v.status == CALLED and v.called_at and v.call_key not in self._announced:
                self._announced.add(v.call_key)
                # a board that just started does not re-announce the morning, and
                # calls made during a long HIS outage are shown but not all spoken
                late = now is not None and now - v.called_at > ANNOUNCE_WITHIN
                if self._primed and not late:
                    calls.append(Call(v.room_code, self._room_name(v.room_code), v.label, v.id, v.call_count))
        self._primed = True
        return calls

    def _room_name(self, code: str) -> str:
        return next((r.name for r in self.rooms if r.code == code), code)

    # --- queries ---
    def room_visits(self, code: str) -> list[Visit]:
        return [v for v in self.visits.values() if v.room_code == code]

    def waiting_order(self, code: str) -> list[WaitingVisit]:
        visits = self.room_visits(code)
        history = [v.priority is not None for v in sorted(
            (v for v in visits if v.was_called and v.priority is not Priority.EMERGENCY),
            key=lambda v: v.called_at)]
        return order_queue([v.as_waiting() for v in visits if v.waiting], interleave=self.interleave,
                           normal_calls_since_priority=interleave_credit(history, self.interleave),
                           booking_grace=self.grace)

    def serving(self, code: str) -> Visit | None:
        called = [v for v in self.room_visits(code) if v.status == CALLED and v.called_at]
        return max(called, key=lambda v: v.called_at) if called else None

    def snapshot(self, updated_at: datetime | None, stale: bool = False, problem: str = "") -> BoardSnapshot:
        views = []
        for room in self.rooms:
            visits = self.room_visits(room.code)
            serving = self.serving(room.code)
            order = self.waiting_order(room.code)
            recent = sorted((v for v in visits if v.was_called and v is not serving),
                            key=lambda v: v.called_at, reverse=True)[: self.recent_count]
            views.append(RoomView(
                code=room.code, name=room.name,
                serving=self._shown(serving) if serving else None,
                waiting=tuple(self._shown_w(w) for w in order[: self.next_count]),
                waiting_total=len(order),
                recent=tuple(self._shown(v) for v in recent)))
        return BoardSnapshot(tuple(views), updated_at, stale, problem)

    def _shown(self, v: Visit) -> ShownNumber:
        return ShownNumber(v.id, v.label, v.masked_name if self.show_names else "", v.priority, v.called_at,
                           v.no_show)

    def _shown_w(self, w: WaitingVisit) -> ShownNumber:
        return ShownNumber(w.visit_id, w.label, w.masked_name if self.show_names else "", w.priority)


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
