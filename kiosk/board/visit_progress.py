"""Where one visit stands in its room's queue, for the patient's phone page —
read from the calling board's own model (``kiosk.board.model.BoardModel``), so the
phone and the board never disagree.

- **state**: ``waiting`` (in the queue), ``called`` (your turn: go in),
  ``with_doctor`` (the room started the visit), ``done`` (finished),
  ``absent`` (called, did not come: see the front desk), ``closed`` (the
  visit was cancelled in the HIS).
- **ahead**: how many waiting visits the room calls before this one, in the
  board's queue order (``kiosk.board.queue_order``: priorities interleaved).
- **estimated wait**: from the room's measured pace today — the median gap
  between its last calls (``PACE_WINDOW`` gaps, gaps over ``LONG_GAP`` such
  as a lunch break left out), needing at least ``MIN_GAPS`` gaps. No pace yet
  means no estimate (the page says so) rather than a made-up number.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from kiosk.board.model import ARRIVED, IN_PROGRESS, BoardModel, Visit

PACE_WINDOW = 10
MIN_GAPS = 2
LONG_GAP = timedelta(hours=1)

WAITING, CALLED, WITH_DOCTOR, DONE, ABSENT, CLOSED = "waiting", "called", "with_doctor", "done", "absent", "closed"


@dataclass(frozen=True)
class RoomPace:
    """How fast a room calls today."""

    calls_today: int
    seconds_per_call: float | None  # None: not enough calls yet to say
    last_call_at: datetime | None


@dataclass(frozen=True)
class VisitProgress:
    """One visit as its phone page shows it (no personal data)."""

    visit_id: str
    label: str
    room_code: str
    state: str
    ahead: int | None = None  # waiting only
    wait_min: int | None = None  # waiting only, when the room has a pace
    priority: bool = False
    called_at: datetime | None = None
    call_count: int = 0


def room_pace(visits: Iterable[Visit], window: int = PACE_WINDOW) -> RoomPace:
    """The room's pace from today's calls (each visit's latest call)."""
    times = sorted(v.called_at for v in visits if v.called_at is not None)
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:]) if timedelta(0) < b - a <= LONG_GAP]
    gaps = gaps[-window:]
    pace = statistics.median(gaps) if len(gaps) >= MIN_GAPS else None
    return RoomPace(len(times), pace, times[-1] if times else None)


def estimate_wait_min(ahead: int, pace: RoomPace, now: datetime) -> int | None:
    """Minutes until a visit with ``ahead`` visits before it is called: it is
    the (ahead + 1)-th call from now, less the time since the room's last call
    (never less than the ``ahead`` calls themselves take)."""
    if pace.seconds_per_call is None:
        return None
    since_last = (now - pace.last_call_at).total_seconds() if pace.last_call_at else 0.0
    seconds = max((ahead + 1) * pace.seconds_per_call - max(0.0, since_last), ahead * pace.seconds_per_call)
    return max(1, math.ceil(seconds / 60))


def state_of(visit: Visit) -> str:
    if visit.no_show:
        return ABSENT
    if visit.status == ARRIVED:
        return CALLED if visit.called_at is not None else WAITING
    if visit.status in (IN_PROGRESS, "onleave"):
        return WITH_DOCTOR
    if visit.status == "finished":
        return DONE
    return CLOSED


def progress_by_visit(model: BoardModel, now: datetime) -> dict[str, VisitProgress]:
    """Every visit of the model's rooms, keyed by visit (Encounter) id. Call it
    on the thread that owns the model (the poller's)."""
    found: dict[str, VisitProgress] = {}
    for room in model.rooms:
        visits = model.room_visits(room.code)
        pace = room_pace(visits)
        ahead = {w.visit_id: i for i, w in enumerate(model.waiting_order(room.code))}
        for v in visits:
            state = state_of(v)
            n = ahead.get(v.id) if state == WAITING else None
            found[v.id] = VisitProgress(
                visit_id=v.id, label=v.label, room_code=v.room_code, state=state, ahead=n,
                wait_min=estimate_wait_min(n, pace, now) if n is not None else None,
                priority=v.priority is not None, called_at=v.called_at, call_count=v.call_count)
    return found
