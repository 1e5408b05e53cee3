"""Queue numbers, as the hospital decides (``his.queue_numbers``).

- ``"his"`` — the HIS numbers a visit when it registers it (as hospital
  information systems do): the kiosk sends the Encounter without a number and
  reads back the identifier ``{his.queue_system}|DEPT-YYYYMMDD-NNN`` from the
  stored Encounter (the write's answer, or a read of it). A retried check-in
  finds its visit by the conditional create, which keeps the stored number.
- ``"counter"`` — the kiosks share a daily counter per department in the HIS
  (a ``Basic`` resource), each number taken with ``If-Match`` and retried on
  412, so no two kiosks give the same number. The counter records which
  check-in took its value, so a lost reply never burns a number; a retried
  check-in in the same process gets the number it was given. It needs a HIS
  that keeps versions: refused with a clear message otherwise.

Offline tickets use the kiosk's own ranges (``kiosk.checkin.offline_first``).
"""
from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from datetime import date

from fhir_his.client import FhirClient, version_of
from fhir_his.mapping import Extensions, extension_value, prune, ref_id
from kiosk.config.loader import HisSection
from kiosk.errors import ConfigError, HisBadReply, HisConflict, HisOutcomeUnknown

COUNTER_ATTEMPTS = 50
BACKOFF_S = 0.01  # after the n-th conflict, wait a random 0..BACKOFF_S * 2**min(n, 3) before trying again
REMEMBERED = 2000  # check-in id -> number, for retries in this process

NEEDS_VERSIONS = ('his.queue_numbers = "counter" needs a HIS that keeps versions (If-Match); this HIS gives none: '
                  'set his.queue_numbers = "his" so that the HIS numbers the visits')


class HisNumbers:
    """The HIS numbers visits itself: nothing to do before recording."""

    name = "his"

    def allocate(self, department_code: str, day: date, checkin_id: str | None = None) -> int | None:
        return None


class CounterNumbers:
    """A versioned daily counter per department, shared by the kiosks."""

    name = "counter"

    def __init__(self, client: FhirClient, his: HisSection, ext: Extensions, versions=lambda: True, *,
                 rng: random.Random | None = None, pause=time.sleep):
        self.client = client
        self._rng = rng or random.Random()
        self._pause = pause  # kiosks that collided spread out instead of colliding again
        self.versions = versions  # whether the HIS keeps versions (asked before the first number)
        self.his = his
        self.ext = ext
        self._counters: dict[str, dict] = {}  # counter key -> what the HIS holds (as last known)
        self._given: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()
        self.conflicts = 0

    def allocate(self, department_code: str, day: date, checkin_id: str | None = None) -> int:
        with self._lock:
            if checkin_id and checkin_id in self._given:
                return self._given[checkin_id]
            if not self.versions():
                raise ConfigError(NEEDS_VERSIONS)
            number = self._take(f"{department_code}-{day:%Y%m%d}", checkin_id or "")
            if checkin_id:
                self._given[checkin_id] = number
                while len(self._given) > REMEMBERED:
                    self._given.popitem(last=False)
            return number

    # -- the counter --------------------------------------------------------------------
    def _value(self, counter: dict) -> int:
        value = extension_value(counter, self.ext.counter_value, "valueInteger")
        return value if isinstance(value, int) and value >= 0 else 0

    def _holder(self, counter: dict) -> str | None:
        return extension_value(counter, self.ext.counter_checkin, "valueString")

    def _resource(self, key: str, value: int, holder: str, rid: str | None = None) -> dict:
        res = {
            "resourceType": "Basic",
            "identifier": [{"system": self.his.counter_system, "value": key}],
            "code": {"text": "Kiosk queue-number counter"},
            "extension": [{"url": self.ext.counter_value, "valueInteger": value},
                          {"url": self.ext.counter_checkin, "valueString": holder}],
        }
        if rid:
            res["id"] = rid
        return prune(res)

    def _find(self, key: str) -> dict | None:
        found, _ = self.client.search("Basic", {"identifier": f"{self.his.counter_system}|{key}"})
        if len(found) > 1:
            raise HisConflict(f"queue counter {key.split('-')[0]}: {len(found)} counters in the HIS for one day")
        return found[0] if found else None

    def _read(self, counter: dict) -> dict:
        return self.client.read("Basic", counter["id"]).body

    def _first(self, key: str, holder: str) -> tuple[dict, bool]:
        """The day's counter, created with 1 for ``holder`` if it did not exist:
        (counter, True when that 1 is ours)."""
        fresh = self._resource(key, 1, holder)
        try:
            r = self.client.create(fresh, if_none_exist=f"identifier={self.his.counter_system}|{key}")
        except HisOutcomeUnknown:
            found = self._find(key)
            if found is None:
                raise
            return found, holder != "" and self._holder(found) == holder and self._value(found) == 1
        if r.status == 201:
            if r.body and r.body.get("id"):
                return r.body, True
            rid = ref_id(r.location)
            if rid and r.version_id:  # what we wrote, as stored: no need to read it back
                return {**fresh, "id": rid, "meta": {"versionId": r.version_id}}, True
            if r.location:
                return self.client.read_location(r.location, "Basic").body, True
        elif r.body and r.body.get("resourceType") == "Basic" and r.body.get("id"):
            return r.body, False
        found = self._find(key)  # matched without a body (or created without a Location)
        if found is None:
            raise HisBadReply(f"POST Basic: answered {r.status}, yet no counter is found")
        return found, r.status == 201

    def _take(self, key: str, holder: str) -> int:
        for attempt in range(COUNTER_ATTEMPTS):
            counter = self._counters.get(key)
            if counter is None:
                counter, ours = self._first(key, holder)
                self._counters[key] = counter
                if ours:
                    return 1
            version = version_of(counter)
            if not version:
                raise ConfigError(NEEDS_VERSIONS)
            value = self._value(counter) + 1
            updated = self._resource(key, value, holder, rid=counter["id"])
            try:
                r = self.client.update(updated, if_match=version)
            except HisConflict:
                self.conflicts += 1
                self._pause(self._rng.uniform(0.0, BACKOFF_S * 2 ** min(attempt, 3)))
                self._counters[key] = self._read(counter)
                continue
            except HisOutcomeUnknown:
                now = self._read(counter)
                self._counters[key] = now
                if holder and self._holder(now) == holder and self._value(now) == value:
                    return value  # the lost answer was ours: the number is taken, not burnt
                continue
            stored = r.body if r.body and r.body.get("id") else None
            if stored is None and r.version_id:
                stored = {**updated, "meta": {"versionId": r.version_id}}
            if stored is None:
                raise ConfigError(NEEDS_VERSIONS)
            self._counters[key] = stored
            return value
        raise HisConflict(f"queue counter {key.split('-')[0]}: still conflicting after {COUNTER_ATTEMPTS} attempts")


def build_queue_numbers(client: FhirClient, his: HisSection, ext: Extensions, versions=lambda: True):
    """The strategy ``his.queue_numbers`` names; ``versions()`` tells whether
    the HIS keeps versions (the counter is refused when it does not)."""
    if his.queue_numbers == "his":
        return HisNumbers()
    return CounterNumbers(client, his, ext, versions)
