"""The shared queue counter (``his.queue_numbers = "counter"``): a kiosk that
lost the race to another kiosk waits a short random while before it reads
the counter again, so that kiosks which collided spread out instead of
colliding again. The counter logic itself runs against the sandbox in
tests/his/test_queue_race.py; here a scripted HIS makes the conflicts."""
from __future__ import annotations

import random
from datetime import date

from requests.structures import CaseInsensitiveDict

from fhir_his.client import Response
from fhir_his.mapping import extensions
from fhir_his.queue_numbers import BACKOFF_S, CounterNumbers
from kiosk.config.loader import HisSection
from kiosk.errors import HisConflict


class ContestedHis:
    """A HIS where another kiosk takes the counter ``losses`` times before ours gets through."""

    def __init__(self, ext, losses: int):
        self.ext, self.losses, self.version, self.value = ext, losses, 1, 1

    def counter(self) -> dict:
        return {"resourceType": "Basic", "id": "c1", "meta": {"versionId": str(self.version)},
                "extension": [{"url": self.ext.counter_value, "valueInteger": self.value},
                              {"url": self.ext.counter_checkin, "valueString": "other"}]}

    def create(self, resource, *, if_none_exist=None):
        return Response(200, self.counter(), CaseInsensitiveDict())  # the day's counter exists

    def read(self, resource_type, rid):
        return Response(200, self.counter(), CaseInsensitiveDict())

    def update(self, resource, *, if_match):
        if if_match != str(self.version) or self.losses:
            if self.losses:  # another kiosk's update landed first
                self.losses -= 1
                self.version += 1
                self.value += 1
            raise HisConflict("412 Precondition Failed")
        self.version += 1
        self.value += 1
        stored = dict(resource, meta={"versionId": str(self.version)})
        return Response(200, stored, CaseInsensitiveDict())


def test_each_lost_race_waits_a_random_growing_while_then_the_number_is_taken():
    section = HisSection()
    ext = extensions(section)
    his = ContestedHis(ext, losses=5)
    pauses: list[float] = []
    counter = CounterNumbers(his, section, ext, rng=random.Random(7), pause=pauses.append)
    number = counter.allocate("NOI", date(2026, 11, 29), "checkin-1")
    assert number == 7  # 1 was there, five went to the other kiosk, ours is the next
    assert counter.conflicts == 5 and len(pauses) == 5
    bounds = [BACKOFF_S * 2 ** min(n, 3) for n in range(5)]
    assert all(0.0 <= p <= b for p, b in zip(pauses, bounds))
    assert len(set(pauses)) == 5  # random, not one fixed step that would keep kiosks in step


def test_a_counter_without_a_contest_never_waits():
    section = HisSection()
    ext = extensions(section)
    pauses: list[float] = []
    counter = CounterNumbers(ContestedHis(ext, losses=0), section, ext, pause=pauses.append)
    assert counter.allocate("NOI", date(2026, 11, 29), "checkin-1") == 2
    assert pauses == []
