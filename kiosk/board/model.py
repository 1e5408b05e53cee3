"""What a calling board shows, built from today's visits — without Qt or FHIR.

The board model keeps today's visits of its rooms (``Visit``s, read from the
HIS through the ``BoardHis`` port — ``fhir_his.board`` maps Encounters to
them), merges changes as the poller fetches them, and produces immutable
``BoardSnapshot``s: per room the number being served, the next numbers in call
order (``kiosk.board.queue_order``) and the last few called. It also detects *new
calls* — a visit that was called, or called again (``kiosk recall``) — which
the board flashes and the announcer speaks. The Qt board (``ui/board``) and
any other screen share this one model.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from kiosk.board.queue_order import WaitingVisit, interleave_credit, order_queue
from kiosk.domain import ClinicRoom, Department, Priority

ANNOUNCE_WITHIN = timedelta(minutes=10)  # generous: the caller's clock may differ a little

# A visit's life on the board (FHIR R4 Encounter statuses):
#   arrived, not called      waiting in the room's queue
#   arrived, called          called to the room, not seen yet (the call is recorded, the status stays)
#   in-progress              with the doctor (the room started the visit)
#   finished                 seen
#   arrived + no-show        called and did not come (out of the queue; the Appointment is "noshow")
ARRIVED = "arrived"
IN_PROGRESS = "in-progress"
AT_THE_ROOM = (ARRIVED, IN_PROGRESS)  # a called patient on their way in, or being seen


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
        """In the queue: arrived and not called yet."""
        return self.status == ARRIVED and self.called_at is None and not self.no_show

    @property
    def was_called(self) -> bool:
        return self.called_at is not None

    @property
    def called_now(self) -> bool:
        """Called to the room and not done: on their way in, or with the doctor."""
        return self.called_at is not None and self.status in AT_THE_ROOM and not self.no_show

    @property
    def call_key(self) -> tuple:
        """Changes whenever the visit is called (again)."""
        return (self.id, self.called_at, self.call_count)

    def as_waiting(self) -> WaitingVisit:
        return WaitingVisit(visit_id=self.id, number=self.number, label=self.label,
                            arrived_at=self.arrived_at, priority=self.priority,
                            appointment_start=self.appointment_start, masked_name=self.masked_name)


@dataclass(frozen=True)
class VisitUpdate:
    """What one read of the HIS found: the visits of the board's rooms, the
    ids of visits that no longer belong to them, and the newest change seen."""

    visits: tuple[Visit, ...] = ()
    gone: tuple[str, ...] = ()
    last_updated: datetime | None = None


class BoardHis(Protocol):
    """The calling board's side of the HIS (adapter: ``fhir_his.board``)."""

    def departments(self, *, fresh: bool = False) -> list[Department]:
        """The HIS's departments and rooms: cached a few minutes, or read now
        (``fresh``: for a caller that keeps its own copy, e.g. the queue service)."""
        ...

    def read_day(self, rooms: list[ClinicRoom], now: datetime) -> VisitUpdate:
        """Every visit of ``rooms`` on the day ``now`` falls in (its timezone)."""
        ...

    def read_changes(self, rooms: list[ClinicRoom], since: datetime) -> VisitUpdate:
        """Visits of ``rooms`` changed at or after ``since``."""
        ...

    def call(self, visit_id: str, at: datetime, *, recall: bool = False) -> None:
        """Record a call (or a repeated call) on the visit; it stays "arrived".
        HisConflict when it changed meanwhile."""
        ...

    def start(self, visit_id: str, at: datetime) -> None:
        """The room starts the visit: the patient is with the doctor (in-progress)."""
        ...

    def finish(self, visit_id: str, at: datetime) -> None:
        """The visit is over (finished; its appointment fulfilled)."""
        ...

    def mark_no_show(self, visit_id: str, at: datetime) -> None:
        """The patient called did not come (out of the queue; the appointment a no-show)."""
        ...

    def close(self) -> None: ...


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


class BoardModel:
    """Today's visits of the board's rooms. Not thread-safe: the poller thread
    owns it and hands out immutable snapshots."""

    def __init__(self, rooms: list[ClinicRoom], *, interleave: int, booking_grace_min: float = 15.0,
                 next_count: int = 4, recent_count: int = 3, show_names: bool = True,
                 timezone: str = "Asia/Ho_Chi_Minh"):
        self.rooms = list(rooms)
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
    def replace_all(self, update: VisitUpdate, day: date, now: datetime | None = None) -> list[Call]:
        """A full read of the rooms' visits of ``day``."""
        if day != self.day:
            self._announced.clear()
        self.day = day
        self.visits = {}
        return self._merge(update, now)

    def merge(self, update: VisitUpdate, now: datetime | None = None) -> list[Call]:
        """Visits changed since the last read."""
        return self._merge(update, now)

    def _merge(self, update: VisitUpdate, now: datetime | None) -> list[Call]:
        if update.last_updated and (self.max_last_updated is None or update.last_updated > self.max_last_updated):
            self.max_last_updated = update.last_updated
        for gone in update.gone:
            self.visits.pop(gone, None)  # moved out of the board's rooms
        fresh: list[Visit] = []
        for v in update.visits:
            if self.day and v.arrived_at.astimezone(self.tz).date() != self.day:
                self.visits.pop(v.id, None)  # yesterday's visit that changed today
                continue
            old = self.visits.get(v.id)
            if old and old.version_id == v.version_id and old.last_updated == v.last_updated:
                continue
            self.visits[v.id] = v
            fresh.append(v)
        calls = []
        for v in sorted(fresh, key=lambda v: v.called_at or v.arrived_at):
            if v.called_now and v.call_key not in self._announced:
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
        """The patient called last to the room (on their way in, or with the doctor)."""
        called = [v for v in self.room_visits(code) if v.called_now]
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
