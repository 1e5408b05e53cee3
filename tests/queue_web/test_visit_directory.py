"""One HIS lookup per check-in id however many pages ask, and a page that goes
away (its request cancelled) does not cancel the lookup the others wait for."""
from __future__ import annotations

import asyncio
import threading

from kiosk.ports import RecordedVisit
from queue_web.visits import VisitDirectory


class SlowFinder:
    def __init__(self):
        self.asked = 0
        self.release = threading.Event()

    def find_visit(self, checkin_id):
        self.asked += 1
        self.release.wait(10)
        return RecordedVisit("p1", "e1", None, 1, "001")


def test_a_cancelled_page_does_not_cancel_the_lookup_of_the_others():
    async def scenario():
        finder = SlowFinder()
        directory = VisitDirectory(finder)
        first = asyncio.ensure_future(directory.find("c1"))
        second = asyncio.ensure_future(directory.find("c1"))
        await asyncio.sleep(0.05)
        first.cancel()  # the first phone tab closed
        await asyncio.sleep(0.05)
        finder.release.set()
        visit = await asyncio.wait_for(second, 10)
        assert visit.encounter_id == "e1" and finder.asked == 1 and first.cancelled()
        assert await directory.find("c1") is visit and finder.asked == 1  # remembered

    asyncio.run(scenario())
