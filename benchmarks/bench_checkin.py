"""Check-in against the sandbox HIS: HTTP round trips (counted at the server)
and latency, for booked and walk-in patients.

Targets (issue 2): ≤ 3 round trips for a booked patient, ≤ 4 for a walk-in.
"Steady state" is every check-in after a department's first of the day on this
kiosk (the counter's version is then known); "cold" is the first one.
"""
from __future__ import annotations

import statistics
import time
import uuid

from kiosk.checkin import CheckInService
from kiosk.clock import SystemClock
from kiosk.config import config_from_dict
from kiosk.demo_data import demo_person, person_identity
from kiosk.domain import CheckInRequest
from kiosk.fhir.his import FhirHis
from app.sandbox import SandboxHis

WALK_INS = 40


def _trips(sandbox, fn) -> tuple[int, float]:
    sandbox.reset_stats()
    started = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - started
    return sandbox.stats()["requests"], elapsed


def _pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run() -> str:
    rows = []
    with SandboxHis() as sandbox:
        cfg = config_from_dict({"his": {"base_url": sandbox.base_url}})
        his = FhirHis(cfg)
        service = CheckInService(his, SystemClock(), cfg)
        his.list_departments()  # reference data is cached by the kiosk; not per check-in

        def check(key, dept=None):
            return lambda: service.check_in(CheckInRequest(str(uuid.uuid4()), person_identity(demo_person(key)), dept))

        # baseline: the cheapest possible request, a plain read
        base_trips, _ = _trips(sandbox, lambda: his.client.capabilities())
        base_lat = [_trips(sandbox, lambda: his.client.capabilities())[1] for _ in range(30)]

        cold_walk, _ = _trips(sandbox, check("ngoc", "NOI"))          # first NOI number of the day
        booked_an, _ = _trips(sandbox, check("an"))                      # NOI counter known now: steady
        booked_hung_cold, _ = _trips(sandbox, check("hung"))             # TIM: first of the day
        new_walk, _ = _trips(sandbox, check("huong", "NOI"))             # new patient created in the transaction
        walk = [_trips(sandbox, check("ngoc", "NOI")) for _ in range(WALK_INS)]
        booked_lat = []
        # booked check-ins in steady state: re-book a fresh appointment per run would need seeding; measure the
        # booked path's latency with the remaining seeded appointment instead
        trips_nhung_cold, t_nhung = _trips(sandbox, check("nhung"))
        booked_lat.append(t_nhung)

    walk_trips = [w[0] for w in walk]
    walk_lat_ms = [w[1] * 1000 for w in walk]
    base_ms = statistics.median(base_lat) * 1000
    rows.append(("Booked patient, steady state", booked_an, "≤ 3", "OK" if booked_an <= 3 else "MISSED"))
    rows.append(("Booked patient, first of the department's day (cold)", booked_hung_cold, "—", ""))
    rows.append(("Walk-in, existing patient, steady state (median)", statistics.median(walk_trips), "≤ 4",
                 "OK" if max(walk_trips) <= 4 else "MISSED"))
    rows.append(("Walk-in, new patient (created in the same transaction)", new_walk, "≤ 4",
                 "OK" if new_walk <= 4 else "MISSED"))
    rows.append(("Walk-in, first of the department's day (cold)", cold_walk, "—", ""))
    table = "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows)
    p50, p95 = statistics.median(walk_lat_ms), _pct(walk_lat_ms, 0.95)
    return f"""## Check-in against the sandbox HIS (issue 2)

HTTP requests counted by the sandbox server itself (`/__admin/stats`). Round trips per check-in:

| check-in | round trips | target | |
|---|---|---|---|
{table}

Latency of {WALK_INS} walk-in check-ins in a row (one kiosk, sandbox HIS on loopback, in-memory engine):

| | p50 | p95 | ratio to one `GET /metadata` (p50 {base_ms:.1f} ms) |
|---|---|---|---|
| walk-in check-in | {p50:.1f} ms | {p95:.1f} ms | {p50 / base_ms:.1f}× |

A booked check-in (first of its department's day) took {t_nhung * 1000:.1f} ms. The sandbox engine searches
in memory by scanning, so its latency grows with the number of stored resources; a production HIS with
indexes behaves differently — the round-trip counts are the portable figure.
"""
