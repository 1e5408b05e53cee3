"""Who is called next in a clinic room: the one rule for the queue order.

Law 15/2023/QH15 Art. 3(2) gives some patients priority (``kiosk.domain.Priority``).
Queue systems that always put priority tickets first starve everyone else on a
busy morning, so the rule here is:

1. **Emergency** visits go first, always, in arrival order (a real emergency
   never waits for an interleave).
2. Other **priority** visits (children under 6, 75+, pregnant, disability,
   meritorious people) are interleaved: one priority visit is called after
   every ``interleave`` normal ones (``board.priority_interleave``). When no
   normal visit waits, priority visits are called back to back; at the start of
   the day (no priority call yet) a priority visit is due at once.
3. Within the priority and the normal streams, **booked** visits count from
   their appointment time (if the patient arrived no later than the slot plus
   a grace period; a patient who comes later than that queues from arrival),
   everyone else from their **arrival** time; the queue number breaks ties.

``order_queue`` is a pure function of the waiting visits and how many normal
visits were called since the last priority call (``normal_calls_since_priority``,
derived from the room's call history with ``interleave_credit``). The board
shows its result as "next numbers", and ``kiosk call-next`` calls its head.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from kiosk.domain import Priority

DEFAULT_BOOKING_GRACE = timedelta(minutes=15)


@dataclass(frozen=True)
class WaitingVisit:
    """One visit waiting in a room's queue (an Encounter in status ``arrived``)."""

    visit_id: str  # FHIR Encounter id
    number: int
    label: str  # what the board shows, e.g. "012"
    arrived_at: datetime
    priority: Priority | None = None
    appointment_start: datetime | None = None
    masked_name: str = field(default="", repr=False)

    @property
    def is_emergency(self) -> bool:
        return self.priority is Priority.EMERGENCY

    @property
    def is_priority(self) -> bool:
        return self.priority is not None and self.priority is not Priority.EMERGENCY


def queue_time(visit: WaitingVisit, grace: timedelta = DEFAULT_BOOKING_GRACE) -> datetime:
    """The time a visit queues from: the appointment slot for a booked patient
    who came in time (even if early), otherwise the arrival time."""
    start = visit.appointment_start
    if start is not None and visit.arrived_at <= start + grace:
        return start
    return visit.arrived_at


def _stream_key(grace: timedelta):
    return lambda v: (queue_time(v, grace), v.number, v.visit_id)


def interleave_credit(called_priorities: Iterable[bool], interleave: int) -> int:
    """Normal calls since the last priority call, from the room's call history
    in call order (True = a non-emergency priority visit was called).

    With no priority call yet today the credit is ``interleave`` (a priority
    visit is due at once). Emergencies should be left out of the history: they
    bypass the interleave and do not use up a priority turn.
    """
    since = None
    for was_priority in called_priorities:
        since = 0 if was_priority else (since + 1 if since is not None else None)
    return interleave if since is None else since


def order_queue(
    waiting: Sequence[WaitingVisit],
    *,
    interleave: int,
    normal_calls_since_priority: int | None = None,
    booking_grace: timedelta = DEFAULT_BOOKING_GRACE,
) -> list[WaitingVisit]:
    """The waiting visits in the order they will be called (see module doc).

    Every visit appears exactly once. ``normal_calls_since_priority=None``
    means "a priority visit is due" (same as a credit of ``interleave``).
    """
    if interleave < 1:
        raise ValueError("interleave must be at least 1")
    key = _stream_key(booking_grace)
    emergencies = sorted((v for v in waiting if v.is_emergency), key=key)
    priority = sorted((v for v in waiting if v.is_priority), key=key)
    normal = sorted((v for v in waiting if v.priority is None), key=key)
    credit = interleave if normal_calls_since_priority is None else normal_calls_since_priority

    ordered = list(emergencies)
    p = n = 0
    while p < len(priority) or n < len(normal):
        priority_due = p < len(priority) and (credit >= interleave or n >= len(normal))
        if priority_due:
            ordered.append(priority[p])
            p += 1
            credit = 0
        else:
            ordered.append(normal[n])
            n += 1
            credit += 1
    return ordered


def next_visit(
    waiting: Sequence[WaitingVisit],
    *,
    interleave: int,
    normal_calls_since_priority: int | None = None,
    booking_grace: timedelta = DEFAULT_BOOKING_GRACE,
) -> WaitingVisit | None:
    """The visit ``kiosk call-next`` calls, or None when nobody waits."""
    ordered = order_queue(waiting, interleave=interleave,
                          normal_calls_since_priority=normal_calls_since_priority,
                          booking_grace=booking_grace)
    return ordered[0] if ordered else None
