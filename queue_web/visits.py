"""Which visit a phone page follows: the check-in id from its token, looked up
in the HIS once (``VisitFinder.find_visit``: the Encounter with the check-in
identifier) and remembered for the day.

Lookups run on worker threads, at most ``CONCURRENT_LOOKUPS`` at a time, one
per check-in id however many pages ask at once. A check-in the HIS does not
have yet (an offline ticket still in a kiosk's outbox) is asked again after
``RETRY_MISSING_S`` at the earliest, so reloading a page does not hammer the HIS.
"""
from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from kiosk.board.follow import VisitFinder
from kiosk.ports import RecordedVisit

CONCURRENT_LOOKUPS = 2
RETRY_MISSING_S = 15.0
MAX_REMEMBERED = 20_000


class VisitDirectory:
    def __init__(self, finder: VisitFinder, *, retry_missing_s: float = RETRY_MISSING_S):
        self.finder = finder
        self.retry_missing_s = retry_missing_s
        self._found: OrderedDict[str, RecordedVisit] = OrderedDict()
        self._missing: dict[str, float] = {}
        self._pending: dict[str, asyncio.Task] = {}
        self._slots = asyncio.Semaphore(CONCURRENT_LOOKUPS)
        self.lookups = 0

    async def find(self, checkin_id: str) -> RecordedVisit | None:
        """The visit, or None when the HIS has none (yet). Raises ``HisError``
        when the HIS cannot be asked."""
        visit = self._found.get(checkin_id)
        if visit is not None:
            self._found.move_to_end(checkin_id)
            return visit
        asked = self._missing.get(checkin_id)
        if asked is not None and time.monotonic() - asked < self.retry_missing_s:
            return None
        # One lookup per check-in id, shared by every page that asks; a page that goes
        # away stops waiting without cancelling the lookup for the others.
        task = self._pending.get(checkin_id)
        if task is None:
            task = self._pending[checkin_id] = asyncio.ensure_future(self._lookup(checkin_id))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved even if nobody waits
        return await asyncio.shield(task)

    async def _lookup(self, checkin_id: str) -> RecordedVisit | None:
        try:
            async with self._slots:
                self.lookups += 1
                visit = await asyncio.to_thread(self.finder.find_visit, checkin_id)
        finally:
            self._pending.pop(checkin_id, None)
        if visit is None:
            self._missing[checkin_id] = time.monotonic()
            if len(self._missing) > MAX_REMEMBERED:
                self._missing.clear()
        else:
            self._missing.pop(checkin_id, None)
            self._found[checkin_id] = visit
            while len(self._found) > MAX_REMEMBERED:
                self._found.popitem(last=False)
        return visit

    def forget(self, checkin_id: str) -> None:
        """Ask the HIS again next time (the visit moved to another room)."""
        self._found.pop(checkin_id, None)
