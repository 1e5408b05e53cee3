"""Paging through a large day stays within constant memory: the visits of
each search page are folded into running tallies and dropped, never kept as
a list of all Encounters. Measured with tracemalloc (peak of Python
allocations) on 1,000 and 10,000 synthetic visits served over loopback HTTP."""
from __future__ import annotations

import gc
import tracemalloc
from datetime import datetime
from zoneinfo import ZoneInfo

from fhir_his.client import FhirClient
from fhir_his.history import FhirVisitHistory
from kiosk.config.loader import HisSection
from kiosk.domain import Department
from kiosk.stats.figures import compute_stats, make_query
from tests.helpers import make_config
from tests.stats.synthetic_his import DEPARTMENTS, SyntheticDay

DAY = datetime(2026, 3, 2, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
DEPTS = [Department(code, code) for code in DEPARTMENTS]


def peak_bytes(fn) -> tuple[int, object]:
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def stats_of_day(total: int, page_size: int = 200) -> tuple[int, dict]:
    his = HisSection()
    with SyntheticDay(total, DAY, his) as day:
        config = make_config(day.base_url)
        history = FhirVisitHistory(config, page_size=page_size)
        query = make_query("2026-03-02", None, today=DAY.date(), timezone="Asia/Ho_Chi_Minh")
        try:
            return peak_bytes(lambda: compute_stats(history, query, DEPTS))
        finally:
            history.close()


def test_a_ten_times_larger_day_needs_about_the_same_memory():
    small_peak, small = stats_of_day(1_000)
    large_peak, large = stats_of_day(10_000)
    assert small["total"]["checkins"] == 1_000 and large["total"]["checkins"] == 10_000
    assert large["by_department"]["NOI"]["checkins"] == 2_500
    assert large["total"]["by_mode"]["offline"] == 1_000 and large["total"]["booked"] == 2_000
    ratio = large_peak / small_peak
    print(f"tracemalloc peak: 1,000 visits {small_peak / 1e6:.2f} MB, 10,000 visits {large_peak / 1e6:.2f} MB, "
          f"ratio {ratio:.2f}")
    assert ratio < 1.5, (small_peak, large_peak)


def test_the_measure_would_see_a_list_of_all_encounters():
    """The same day gathered into one list (what FhirClient.search returns):
    the peak grows with the day — so the ratio above means something."""
    def gather(total):
        with SyntheticDay(total, DAY, HisSection()) as day:
            client = FhirClient(HisSection(base_url=day.base_url))
            try:
                return peak_bytes(lambda: sum(r["resourceType"] == "Encounter"
                                              for r in client.search("Encounter", [("_count", "200")])[0]))
            finally:
                client.close()

    small_peak, n_small = gather(1_000)
    large_peak, n_large = gather(10_000)
    assert (n_small, n_large) == (1_000, 10_000)
    assert large_peak / small_peak > 5
