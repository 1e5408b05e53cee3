import pytest

from kiosk.clock import SystemClock
from kiosk.config.loader import Config
from kiosk.errors import HisUnavailable
from kiosk.services import AlwaysOnline, KioskServices
from tests.core.fake_his import DEPARTMENTS


class DownHis:
    def list_departments(self, *, refresh=False):
        raise HisUnavailable("down")


class Monitor:
    def __init__(self, mode):
        self.current, self.reports = mode, []

    def mode(self):
        return self.current

    def subscribe(self, callback):
        callback(self.current)

    def report_ok(self, why=""):
        self.current = "online"

    def report_unavailable(self, why):
        self.reports.append(why)
        self.current = "offline"


def test_departments_fall_back_to_the_cache_and_report_the_outage():
    cached = DEPARTMENTS[:1]
    monitor = Monitor("online")
    services = KioskServices(Config(), DownHis(), checkin=None, connectivity=monitor, clock=SystemClock(),
                             department_fallback=lambda: cached)
    assert services.departments() == cached and monitor.reports == ["down"]
    assert services.departments() == cached  # offline now: the HIS is not asked


def test_without_a_cache_the_outage_is_an_error():
    services = KioskServices(Config(), DownHis(), checkin=None, connectivity=AlwaysOnline(), clock=SystemClock())
    with pytest.raises(HisUnavailable):
        services.departments()
