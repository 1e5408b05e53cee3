"""kiosk.stats.figures over an in-memory VisitHistory: exact counts, local hours,
waiting-time quantiles, the bounded sample, the query's refusals."""
from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain import Department
from kiosk.stats.figures import (
    SAMPLE_SIZE,
    AppointmentRecord,
    Sample,
    StatsInputError,
    VisitRecord,
    compute_stats,
    make_query,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 3, 2)
DEPTS = [Department("NOI", "Nội khoa", name_en="Internal medicine"), Department("MAT", "Mắt")]


class ListHistory:
    """A VisitHistory over lists (the FHIR one streams pages; this one a list)."""

    def __init__(self, visits, appointments=()):
        self._visits, self._appointments = list(visits), list(appointments)
        self.asked: list[tuple[datetime, datetime]] = []

    def departments(self):
        return DEPTS

    def visits(self, start, end):
        self.asked.append((start, end))
        yield from self._visits

    def appointments(self, start, end):
        yield from self._appointments

    def close(self):
        pass


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN)


def visit(dept="NOI", hour=8, minute=0, **kw) -> VisitRecord:
    return VisitRecord(department=dept, arrived_at=at(hour, minute), **kw)


def query(**kw):
    return make_query(kw.pop("frm", DAY.isoformat()), kw.pop("to", None), today=DAY,
                      timezone="Asia/Ho_Chi_Minh", **kw)


def test_counts_per_department_channel_mode_booking_priority_and_bhyt():
    visits = [
        visit("NOI", 7, channel="chip", mode="online", booked=True, insured=True),
        visit("NOI", 7, 30, channel="cccd_qr", mode="offline", priority="elderly_75"),
        visit("NOI", 9, channel="typed", mode="online", insured=True),
        visit("MAT", 9, 10, channel="appointment_qr", mode="online", booked=True, priority="child_under_6"),
        visit("MAT", 13, channel="patient_code", mode="online"),
        visit("", 14),  # registered elsewhere: no department, no channel, no mode
    ]
    data = compute_stats(ListHistory(visits), query())
    t = data["total"]
    assert t["checkins"] == 6 and t["booked"] == 2 and t["walk_in"] == 4
    assert t["by_channel"] == {"chip": 1, "cccd_qr": 1, "appointment_qr": 1, "typed": 1, "patient_code": 1,
                               "unknown": 1}
    assert t["by_mode"] == {"online": 4, "offline": 1, "unknown": 1}
    assert t["priority"] == 2 and t["priority_share"] == pytest.approx(2 / 6, abs=1e-4)
    assert t["by_priority"] == {"child_under_6": 1, "elderly_75": 1}
    assert t["bhyt"] == 2 and t["bhyt_share"] == pytest.approx(2 / 6, abs=1e-4)
    assert t["by_hour"] == {"07": 2, "09": 2, "13": 1, "14": 1}
    assert list(data["by_department"]) == ["MAT", "NOI", "unknown"]
    noi = data["by_department"]["NOI"]
    assert noi["name"] == "Nội khoa" and noi["name_en"] == "Internal medicine"
    assert (noi["checkins"], noi["booked"], noi["walk_in"], noi["bhyt"], noi["priority"]) == (3, 1, 2, 2, 1)
    assert noi["by_channel"]["chip"] == 1 and noi["by_mode"] == {"online": 2, "offline": 1}
    assert data["by_department"]["MAT"]["by_hour"] == {"09": 1, "13": 1}
    assert sum(d["checkins"] for d in data["by_department"].values()) == t["checkins"]


def test_hours_and_days_are_the_hospitals_local_ones():
    utc = ZoneInfo("UTC")
    # 00:30 UTC is 07:30 in Hà Nội; 16:59 UTC on the 2nd is 23:59 there, 17:00 UTC is the next local day.
    visits = [VisitRecord("NOI", datetime(2026, 3, 2, 0, 30, tzinfo=utc)),
              VisitRecord("NOI", datetime(2026, 3, 2, 16, 59, tzinfo=utc)),
              VisitRecord("NOI", datetime(2026, 3, 2, 17, 0, tzinfo=utc)),
              VisitRecord("NOI", datetime(2026, 3, 1, 16, 59, tzinfo=utc))]
    history = ListHistory(visits)
    data = compute_stats(history, query())
    assert data["total"]["checkins"] == 2 and data["total"]["by_hour"] == {"07": 1, "23": 1}
    assert history.asked == [(at(0), at(0, day=DAY + timedelta(days=1)))]
    two_days = compute_stats(ListHistory(visits), query(to="2026-03-03"))
    assert two_days["total"]["by_day"] == {"2026-03-02": 2, "2026-03-03": 1}


def test_waits_to_call_and_to_start_median_and_p90_per_department():
    waits = [2, 4, 6, 8, 10, 12, 14, 16, 18, 40]  # minutes from arrival to the call
    visits = [visit("NOI", 8, called_at=at(8, w), started_at=at(8, w + 5), status="in-progress") for w in waits]
    visits.append(visit("NOI", 9))  # waiting still: no call, no start
    visits.append(visit("NOI", 9, called_at=at(8, 50)))  # a clock gone backwards is not a wait
    data = compute_stats(ListHistory(visits), query())
    noi = data["by_department"]["NOI"]
    assert noi["called"] == 11 and noi["started"] == 10
    call = noi["wait_to_call_minutes"]
    assert call["count"] == 10 and call["exact"]
    assert call["median"] == statistics.median(waits) == 11
    assert call["p90"] == pytest.approx(18 + 0.1 * (40 - 18), abs=0.05)  # linear interpolation, as numpy
    start = noi["wait_to_start_minutes"]
    assert start["median"] == 16 and start["count"] == 10
    assert data["total"]["wait_to_call_minutes"] == call


def test_no_shows_finished_and_appointments():
    visits = [visit(no_show=True, called_at=at(9)), visit(status="finished", started_at=at(8, 20),
                                                          finished_at=at(8, 40)), visit()]
    appointments = [AppointmentRecord("NOI", at(9), "noshow"), AppointmentRecord("NOI", at(10), "fulfilled"),
                    AppointmentRecord("MAT", at(10), "booked"),
                    AppointmentRecord("MAT", at(10, day=DAY + timedelta(days=1)), "booked")]  # another day
    data = compute_stats(ListHistory(visits, appointments), query())
    noi = data["by_department"]["NOI"]
    assert (noi["no_shows"], noi["finished"], noi["called"], noi["started"]) == (1, 1, 1, 1)
    assert noi["appointments"] == {"total": 2, "noshow": 1, "by_status": {"fulfilled": 1, "noshow": 1}}
    assert data["by_department"]["MAT"]["checkins"] == 0
    assert data["total"]["appointments"]["total"] == 3


def test_one_department_only():
    visits = [visit("NOI"), visit("MAT"), visit("MAT")]
    data = compute_stats(ListHistory(visits, [AppointmentRecord("NOI", at(9), "booked")]),
                         query(department="MAT"))
    assert data["department"] == "MAT" and list(data["by_department"]) == ["MAT"]
    assert data["total"]["checkins"] == 2 and data["total"]["appointments"]["total"] == 0


@pytest.mark.parametrize("frm, to, dept, message", [
    ("2026-03-05", "2026-03-01", None, "--to: 2026-03-01 is before --from 2026-03-05"),
    ("yesterday", None, None, "--from: expected a date YYYY-MM-DD, got 'yesterday'"),
    ("2026-03-01", "2026-02-30", None, "--to: expected a date YYYY-MM-DD, got '2026-02-30'"),
    ("2025-01-01", "2026-03-01", None, "--to: at most 366 days per report"),
])
def test_bad_dates_are_refused_naming_the_option(frm, to, dept, message):
    with pytest.raises(StatsInputError) as err:
        make_query(frm, to, today=DAY, timezone="Asia/Ho_Chi_Minh", department=dept)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_unknown_department_is_refused_with_the_known_codes():
    with pytest.raises(StatsInputError, match=r"^--department: 'XYZ' is not a department in the HIS \(known: MAT, NOI\)$"):
        compute_stats(ListHistory([]), query(department="XYZ"))


def test_defaults_are_today_and_one_day():
    q = make_query(None, None, today=DAY, timezone="Asia/Ho_Chi_Minh")
    assert (q.first_day, q.last_day, q.department) == (DAY, DAY, None)
    assert q.start == at(0) and q.end - q.start == timedelta(days=1)


def test_the_sample_is_exact_up_to_its_size_and_bounded_after():
    s = Sample(size=100)
    for v in range(1, 101):
        s.add(float(v))
    assert s.exact and s.quantile(0.5) == 50.5 and s.quantile(0.9) == pytest.approx(90.1)
    for v in range(101, 100_001):
        s.add(float(v % 1000))
    assert not s.exact and s.count == 100_000 and len(s.values) == 100
    assert 350 <= s.quantile(0.5) <= 650  # a uniform sample of values uniform on 0..999
    assert SAMPLE_SIZE >= 1000


def test_empty_day():
    data = compute_stats(ListHistory([]), query())
    assert data["total"]["checkins"] == 0 and data["total"]["priority_share"] == 0.0
    assert data["total"]["wait_to_call_minutes"] == {"count": 0, "median": None, "p90": None, "exact": True}
    assert data["by_department"] == {}
