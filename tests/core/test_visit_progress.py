"""A visit's place in its room's queue for the phone page (kiosk.board.visit_progress),
read from the board model: state, people ahead in queue order, the room's pace
and the estimated wait."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from kiosk.board.model import BoardModel, Visit, VisitUpdate
from kiosk.board.visit_progress import estimate_wait_min, progress_by_visit, room_pace
from kiosk.domain import ClinicRoom, Priority

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # 08:00 in Hà Nội
ROOM = ClinicRoom("P101", "Phòng khám Nội 1", location_id="L1")


def visit(n, *, minutes, status="arrived", called=None, priority=None, no_show=False):
    return Visit(id=f"e{n}", version_id="1", status=status, room_code="P101", number=n, label=f"{n:03d}",
                 arrived_at=T0 + timedelta(minutes=minutes), last_updated=T0, priority=priority,
                 called_at=T0 + timedelta(minutes=called) if called is not None else None,
                 call_count=1 if called is not None else 0, no_show=no_show)


def model_with(visits):
    model = BoardModel([ROOM], interleave=3)
    model.replace_all(VisitUpdate(tuple(visits)), T0.date())
    return model


def test_states_and_people_ahead_follow_the_board_queue_order():
    visits = [visit(1, minutes=0, status="finished", called=10), visit(2, minutes=1, status="in-progress", called=20),
              visit(3, minutes=2, called=30), visit(4, minutes=3, no_show=True, called=25),
              visit(5, minutes=4), visit(6, minutes=5), visit(7, minutes=6, priority=Priority.PREGNANT),
              visit(8, minutes=7, status="cancelled")]
    now = T0 + timedelta(minutes=31)
    p = progress_by_visit(model_with(visits), now)
    assert [p[f"e{i}"].state for i in range(1, 9)] == ["done", "with_doctor", "called", "absent", "waiting",
                                                        "waiting", "waiting", "closed"]
    # one priority call after every 3 normal ones; none yet today → the priority visit is due first
    assert (p["e7"].ahead, p["e5"].ahead, p["e6"].ahead) == (0, 1, 2)
    assert p["e3"].ahead is None and p["e3"].wait_min is None
    assert p["e7"].priority and not p["e5"].priority


def test_pace_is_the_median_gap_between_todays_calls():
    calls = [visit(i, minutes=0, status="finished", called=c) for i, c in enumerate([0, 6, 10, 18, 200], 1)]
    pace = room_pace(calls)
    assert pace.calls_today == 5
    assert pace.seconds_per_call == 360.0  # gaps 6, 4, 8 min; the 182-min lunch break is left out
    assert room_pace(calls[:2]).seconds_per_call is None  # one gap is not a pace


def test_estimate_counts_the_calls_ahead_less_the_time_since_the_last():
    calls = [visit(i, minutes=0, status="finished", called=c) for i, c in enumerate([0, 5, 10], 1)]
    pace = room_pace(calls)  # 5 minutes a call, last at minute 10
    at = lambda m: T0 + timedelta(minutes=m)  # noqa: E731
    assert estimate_wait_min(0, pace, at(10)) == 5
    assert estimate_wait_min(0, pace, at(13)) == 2
    assert estimate_wait_min(2, pace, at(10)) == 15
    assert estimate_wait_min(2, pace, at(40)) == 10  # a slow room: never less than the calls ahead take
    assert estimate_wait_min(0, pace, at(40)) == 1
    p = progress_by_visit(model_with([*calls, visit(9, minutes=1), visit(10, minutes=2)]), at(11))
    assert (p["e9"].wait_min, p["e10"].wait_min) == (4, 9)
