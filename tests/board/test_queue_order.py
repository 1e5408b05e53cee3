"""The queue-order rule (kiosk.board.queue_order): priority per Law 15/2023 with an
interleave, booked visits at their time, then arrival order."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.board.queue_order import (
    WaitingVisit,
    interleave_credit,
    next_visit,
    order_queue,
    queue_time,
)
from kiosk.domain import Priority

VN = timezone(timedelta(hours=7))
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=VN)


def visit(number, minute, priority=None, booked_minute=None):
    return WaitingVisit(
        visit_id=f"enc-{number}",
        number=number,
        label=f"{number:03d}",
        arrived_at=T0 + timedelta(minutes=minute),
        priority=priority,
        appointment_start=None if booked_minute is None else T0 + timedelta(minutes=booked_minute),
    )


def labels(visits):
    return [v.number for v in visits]


def test_arrival_order_without_priority_or_booking():
    waiting = [visit(3, 9), visit(1, 1), visit(2, 5)]
    assert labels(order_queue(waiting, interleave=3)) == [1, 2, 3]


def test_priority_due_at_start_of_day_then_every_third_normal():
    waiting = [visit(n, n) for n in range(1, 8)] + [
        visit(20, 10, Priority.ELDERLY_75), visit(21, 11, Priority.PREGNANT),
        visit(22, 12, Priority.CHILD_UNDER_6)]
    ordered = order_queue(waiting, interleave=3)
    assert labels(ordered) == [20, 1, 2, 3, 21, 4, 5, 6, 22, 7]


def test_credit_from_history_delays_the_next_priority():
    waiting = [visit(n, n) for n in range(1, 5)] + [visit(20, 0, Priority.DISABILITY)]
    # one priority then one normal were called already: two more normal first
    credit = interleave_credit([False, True, False], interleave=3)
    assert credit == 1
    assert labels(order_queue(waiting, interleave=3, normal_calls_since_priority=credit)) == [1, 2, 20, 3, 4]


def test_interleave_credit_without_priority_history_means_due():
    assert interleave_credit([], 3) == 3
    assert interleave_credit([False, False], 4) == 4
    assert interleave_credit([True], 4) == 0
    assert interleave_credit([True, False, False, False, False, False], 2) == 5


def test_priority_back_to_back_when_nobody_else_waits():
    waiting = [visit(5, 3, Priority.MERITORIOUS), visit(4, 1, Priority.ELDERLY_75)]
    assert labels(order_queue(waiting, interleave=3, normal_calls_since_priority=0)) == [4, 5]


def test_emergency_first_even_when_priority_turn_is_used():
    waiting = [visit(1, 0), visit(2, 1), visit(9, 30, Priority.EMERGENCY), visit(10, 5, Priority.ELDERLY_75)]
    ordered = order_queue(waiting, interleave=2, normal_calls_since_priority=0)
    assert labels(ordered) == [9, 1, 2, 10]


def test_booked_visit_goes_at_its_time_not_at_arrival():
    # booked for 07:30, arrived 07:05; walk-ins at 07:10, 07:20, 07:40
    waiting = [visit(1, 10), visit(2, 20), visit(3, 40), visit(50, 5, booked_minute=30)]
    assert labels(order_queue(waiting, interleave=3)) == [1, 2, 50, 3]


def test_booked_visit_arriving_late_queues_from_arrival():
    late = visit(50, 60, booked_minute=30)  # 30 min after the slot, grace is 15
    assert queue_time(late) == late.arrived_at
    waiting = [visit(1, 40), visit(2, 55), late, visit(3, 61)]
    assert labels(order_queue(waiting, interleave=3)) == [1, 2, 50, 3]
    # within the grace period the slot still counts
    on_time = visit(51, 40, booked_minute=30)
    assert queue_time(on_time) == on_time.appointment_start


def test_booking_grace_is_configurable():
    v = visit(50, 60, booked_minute=30)
    waiting = [visit(1, 40), v]
    ordered = order_queue(waiting, interleave=3, booking_grace=timedelta(minutes=45))
    assert labels(ordered) == [50, 1]


def test_same_time_tie_broken_by_number():
    waiting = [visit(7, 10), visit(6, 10)]
    assert labels(order_queue(waiting, interleave=1)) == [6, 7]


def test_next_visit_and_empty_queue():
    assert next_visit([], interleave=3) is None
    assert next_visit([visit(2, 2), visit(1, 3)], interleave=3).number == 2


def test_interleave_must_be_positive():
    with pytest.raises(ValueError):
        order_queue([visit(1, 1)], interleave=0)


# --- properties ------------------------------------------------------------

priorities = st.one_of(st.none(), st.none(), st.sampled_from(list(Priority)))
visits = st.lists(
    st.tuples(st.integers(0, 300), priorities, st.one_of(st.none(), st.integers(0, 300))),
    max_size=40,
).map(lambda rows: [visit(i + 1, m, p, b) for i, (m, p, b) in enumerate(rows)])


@settings(max_examples=150, deadline=None)
@given(visits, st.integers(1, 6), st.one_of(st.none(), st.integers(0, 10)))
def test_every_waiting_visit_appears_exactly_once(waiting, interleave, credit):
    ordered = order_queue(waiting, interleave=interleave, normal_calls_since_priority=credit)
    assert sorted(v.visit_id for v in ordered) == sorted(v.visit_id for v in waiting)
    assert len(ordered) == len(waiting)


@settings(max_examples=150, deadline=None)
@given(visits, st.integers(1, 6), st.one_of(st.none(), st.integers(0, 10)))
def test_nobody_starves(waiting, interleave, credit):
    """A normal visit waits behind at most the emergencies, the normal visits
    ahead of it and one priority visit per ``interleave`` normal calls; a
    priority visit waits at most ``interleave`` normal calls per priority
    visit ahead of it."""
    ordered = order_queue(waiting, interleave=interleave, normal_calls_since_priority=credit)
    emergencies = sum(v.is_emergency for v in waiting)
    normal_rank = prio_rank = 0
    for position, v in enumerate(ordered):
        if v.priority is None:
            bound = emergencies + normal_rank + 1 + normal_rank // interleave
            assert position <= bound
            normal_rank += 1
        elif v.is_priority:
            assert position <= emergencies + prio_rank + (prio_rank + 1) * interleave
            prio_rank += 1
        else:
            assert position < emergencies


@settings(max_examples=100, deadline=None)
@given(visits, st.integers(1, 6))
def test_streams_keep_their_own_order(waiting, interleave):
    """Within normal and within priority visits, the order is by queue time."""
    ordered = order_queue(waiting, interleave=interleave)
    for kind in (lambda v: v.priority is None, lambda v: v.is_priority, lambda v: v.is_emergency):
        times = [(queue_time(v), v.number) for v in ordered if kind(v)]
        assert times == sorted(times)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 30), st.integers(0, 30), st.integers(1, 6))
def test_calling_heads_repeatedly_matches_the_projection(n_normal, n_prio, interleave):
    """Calling the head one by one (recomputing the credit from the call
    history each time, as call-next does) yields the projected order."""
    waiting = [visit(i, i) for i in range(1, n_normal + 1)]
    waiting += [visit(100 + i, i, Priority.ELDERLY_75) for i in range(n_prio)]
    projected = order_queue(waiting, interleave=interleave)
    history, called, remaining = [], [], list(waiting)
    while remaining:
        head = next_visit(remaining, interleave=interleave,
                          normal_calls_since_priority=interleave_credit(history, interleave))
        called.append(head)
        history.append(head.is_priority)
        remaining.remove(head)
    assert labels(called) == labels(projected)
