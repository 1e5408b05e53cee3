"""Clocks: the real one in the hospital's timezone, and a settable one for tests."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


class SystemClock:
    def __init__(self, timezone: str = "Asia/Ho_Chi_Minh"):
        self.tz = ZoneInfo(timezone)

    def now(self) -> datetime:
        return datetime.now(self.tz)


class FixedClock:
    """A clock that only moves when told to (unit tests, scripted demos)."""

    def __init__(self, at: datetime):
        self._now = at

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta) -> None:
        self._now += timedelta(**delta)
