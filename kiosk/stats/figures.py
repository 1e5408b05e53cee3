"""Statistics for hospital leaders: check-ins, channels, waiting times, no-shows.

Computed from what the HIS holds (never from the kiosks' own counters), over
the ``VisitHistory`` port — its FHIR implementation is
``fhir_his.history.FhirVisitHistory``. The port streams visits one search
page at a time and ``compute_stats`` folds each into running tallies: memory
stays the same whether a day has 1,000 or 100,000 visits. Waiting times are
kept as a bounded uniform sample per department (``Sample``): medians and
90th percentiles are exact up to ``SAMPLE_SIZE`` visits per department and
estimated from a uniform random sample beyond.

Dates are the hospital's local days (``kiosk.timezone``). Nothing here holds a
name, an ID number or a date of birth: only departments, channels, times.
"""
from __future__ import annotations

import random
from array import array
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterator, Protocol
from zoneinfo import ZoneInfo

from kiosk.domain import Department
from kiosk.errors import KioskError

CHANNELS = ("chip", "cccd_qr", "appointment_qr", "typed", "patient_code")  # checkin-channel values
MODES = ("online", "offline")  # checkin-mode values
UNKNOWN = "unknown"  # a visit without the extension (registered elsewhere, or before the kiosk wrote it)
SAMPLE_SIZE = 2000  # waiting times kept per department and measure
MAX_DAYS = 366


class StatsInputError(KioskError):
    """Bad input for ``kiosk stats``; the text names the option."""


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """One visit (Encounter) as the statistics see it: no patient data at all."""

    department: str  # department code ("" when the visit names none)
    arrived_at: datetime  # period.start, timezone-aware
    channel: str = UNKNOWN  # chip, cccd_qr, appointment_qr, typed, patient_code
    mode: str = UNKNOWN  # online / offline
    booked: bool = False  # the visit is linked to an Appointment
    priority: str | None = None  # Law 15/2023 group (queue-priority), None for none
    insured: bool = False  # a BHYT Coverage is recorded on the visit
    status: str = "arrived"
    called_at: datetime | None = None  # first call to the room (or the start, if never called)
    started_at: datetime | None = None  # with the practitioner (in-progress)
    finished_at: datetime | None = None
    no_show: bool = False  # called and did not come


@dataclass(frozen=True, slots=True)
class AppointmentRecord:
    department: str
    start: datetime
    status: str  # booked, arrived, fulfilled, noshow, cancelled…


class VisitHistory(Protocol):
    """Where the statistics come from (the HIS)."""

    def departments(self) -> list[Department]: ...

    def visits(self, start: datetime, end: datetime) -> Iterator[VisitRecord]:
        """Visits that arrived in [start, end), streamed (never all in memory)."""

    def appointments(self, start: datetime, end: datetime) -> Iterator[AppointmentRecord]:
        """Appointments booked for [start, end), streamed."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class StatsQuery:
    first_day: date
    last_day: date  # inclusive
    timezone: str
    department: str | None = None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), ZoneInfo(self.timezone))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), datetime.min.time(), ZoneInfo(self.timezone))


def parse_day(option: str, text: str | None, default: date) -> date:
    if text is None or text == "":
        return default
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise StatsInputError(f"{option}: expected a date YYYY-MM-DD, got {text!r}") from None


def make_query(from_text: str | None, to_text: str | None, *, today: date, timezone: str,
               department: str | None = None) -> StatsQuery:
    """The days asked for: ``--from`` (default today) to ``--to`` (default ``--from``), inclusive."""
    first = parse_day("--from", from_text, today)
    last = parse_day("--to", to_text, first)
    if last < first:
        raise StatsInputError(f"--to: {last.isoformat()} is before --from {first.isoformat()}")
    if (last - first).days >= MAX_DAYS:
        raise StatsInputError(f"--to: at most {MAX_DAYS} days per report, got {(last - first).days + 1}")
    dept = (department or "").strip() or None
    return StatsQuery(first, last, timezone, dept)


def check_department(query: StatsQuery, departments: list[Department]) -> None:
    if query.department is None:
        return
    codes = sorted(d.code for d in departments)
    if query.department not in codes:
        raise StatsInputError(f"--department: {query.department!r} is not a department in the HIS "
                              f"(known: {', '.join(codes) or 'none'})")


class Sample:
    """A bounded uniform sample of values (reservoir sampling, algorithm R):
    exact quantiles while ``count <= size``, an unbiased sample after."""

    __slots__ = ("size", "count", "values", "_rng")

    def __init__(self, size: int = SAMPLE_SIZE, seed: int = 17):
        self.size = size
        self.count = 0
        self.values = array("d")
        self._rng = random.Random(seed)

    def add(self, value: float) -> None:
        self.count += 1
        if len(self.values) < self.size:
            self.values.append(value)
            return
        slot = self._rng.randrange(self.count)
        if slot < self.size:
            self.values[slot] = value

    @property
    def exact(self) -> bool:
        return self.count <= self.size

    def quantile(self, q: float) -> float | None:
        """Linear interpolation between the closest ranks (as numpy's default)."""
        if not self.values:
            return None
        ordered = sorted(self.values)
        pos = (len(ordered) - 1) * q
        low = int(pos)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)

    def summary(self) -> dict:
        median, p90 = self.quantile(0.5), self.quantile(0.9)
        return {"count": self.count,
                "median": None if median is None else round(median, 1),
                "p90": None if p90 is None else round(p90, 1),
                "exact": self.exact}


def _minutes(later: datetime | None, earlier: datetime) -> float | None:
    if later is None:
        return None
    value = (later - earlier).total_seconds() / 60.0
    return value if value >= 0 else None  # a clock that went backwards is not a wait


class Tally:
    """Running totals for one department (or the whole hospital)."""

    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self.checkins = 0
        self.channels: Counter = Counter()
        self.modes: Counter = Counter()
        self.priorities: Counter = Counter()
        self.statuses: Counter = Counter()
        self.booked = self.insured = self.called = self.started = self.finished = self.no_shows = 0
        self.hours = [0] * 24
        self.days: Counter = Counter()
        self.wait_call = Sample()
        self.wait_start = Sample()
        self.appointments: Counter = Counter()

    def add_visit(self, v: VisitRecord) -> None:
        self.checkins += 1
        local = v.arrived_at.astimezone(self.tz)
        self.hours[local.hour] += 1
        self.days[local.date().isoformat()] += 1
        self.channels[v.channel or UNKNOWN] += 1
        self.modes[v.mode or UNKNOWN] += 1
        self.statuses[v.status] += 1
        self.booked += v.booked
        self.insured += v.insured
        if v.priority:
            self.priorities[v.priority] += 1
        self.no_shows += v.no_show
        self.finished += v.finished_at is not None
        if v.called_at is not None:
            self.called += 1
            wait = _minutes(v.called_at, v.arrived_at)
            if wait is not None:
                self.wait_call.add(wait)
        if v.started_at is not None:
            self.started += 1
            wait = _minutes(v.started_at, v.arrived_at)
            if wait is not None:
                self.wait_start.add(wait)

    def add_appointment(self, a: AppointmentRecord) -> None:
        self.appointments[a.status or UNKNOWN] += 1

    def to_json(self) -> dict:
        n = self.checkins
        share = (lambda part: round(part / n, 4) if n else 0.0)
        return {
            "checkins": n,
            "by_hour": {f"{h:02d}": c for h, c in enumerate(self.hours) if c},
            "by_day": dict(sorted(self.days.items())),
            "by_channel": {**{c: self.channels.get(c, 0) for c in CHANNELS},
                           **{c: k for c, k in sorted(self.channels.items()) if c not in CHANNELS}},
            "by_mode": {**{m: self.modes.get(m, 0) for m in MODES},
                        **{m: k for m, k in sorted(self.modes.items()) if m not in MODES}},
            "booked": self.booked,
            "walk_in": n - self.booked,
            "priority": sum(self.priorities.values()),
            "priority_share": share(sum(self.priorities.values())),
            "by_priority": dict(sorted(self.priorities.items())),
            "bhyt": self.insured,
            "bhyt_share": share(self.insured),
            "by_status": dict(sorted(self.statuses.items())),
            "called": self.called,
            "started": self.started,
            "finished": self.finished,
            "no_shows": self.no_shows,
            "wait_to_call_minutes": self.wait_call.summary(),
            "wait_to_start_minutes": self.wait_start.summary(),
            "appointments": {"total": sum(self.appointments.values()),
                             "noshow": self.appointments.get("noshow", 0),
                             "by_status": dict(sorted(self.appointments.items()))},
        }


def compute_stats(history: VisitHistory, query: StatsQuery, departments: list[Department] | None = None) -> dict:
    """The report's data (JSON-ready): hospital totals and ``by_department``
    keyed by department code. Visits and appointments are folded in as they
    stream from ``history``."""
    departments = history.departments() if departments is None else departments
    check_department(query, departments)
    tz = ZoneInfo(query.timezone)
    names = {d.code: d for d in departments}
    total = Tally(tz)
    per_dept: dict[str, Tally] = {}
    if query.department:
        per_dept[query.department] = Tally(tz)
    start, end = query.start, query.end
    for visit in history.visits(start, end):
        code = visit.department or UNKNOWN
        if query.department and code != query.department:
            continue
        if not start <= visit.arrived_at < end:
            continue  # a server's date search also matches visits that merely overlap the days
        total.add_visit(visit)
        per_dept.setdefault(code, Tally(tz)).add_visit(visit)
    for appt in history.appointments(start, end):
        code = appt.department or UNKNOWN
        if (query.department and code != query.department) or not start <= appt.start < end:
            continue
        total.add_appointment(appt)
        per_dept.setdefault(code, Tally(tz)).add_appointment(appt)
    by_department = {}
    for code in sorted(per_dept, key=lambda c: (c == UNKNOWN, c)):
        dept = names.get(code)
        by_department[code] = {"name": dept.name if dept else "", "name_en": dept.name_en if dept else "",
                               **per_dept[code].to_json()}
    return {
        "from": query.first_day.isoformat(),
        "to": query.last_day.isoformat(),
        "timezone": query.timezone,
        "department": query.department,
        "sample_size": SAMPLE_SIZE,
        "total": total.to_json(),
        "by_department": by_department,
    }
