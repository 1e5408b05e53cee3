"""The day's recheck cache, and every wait bounded by insurance.timeout_s:
slow, down and stopped gateways give `unavailable`, never an exception."""
from __future__ import annotations

import socket
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bhxh_gateway.cache import RecheckCache
from kiosk.clock import FixedClock
from kiosk.insurance.card_check import CoverageStatus
from tests.insurance.support import TEST_DOB, holder

pytestmark = pytest.mark.integration
UNAVAILABLE = CoverageStatus.UNAVAILABLE


class Ticker:
    """A monotonic clock the test moves."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def checks_asked(sim) -> int:
    return sim.stats()["check_requests"]


# --- recheck cache -------------------------------------------------------------------

def test_a_card_checked_today_is_not_asked_again_within_recheck_after_s(fresh_simulator, gateway_for):
    ticker = Ticker()
    gateway = gateway_for(fresh_simulator, recheck_after_s=900, monotonic=ticker)
    first = gateway.check(*holder("000"))
    ticker.now += 899
    again = gateway.check(*holder("000"))
    assert again is first and checks_asked(fresh_simulator) == 1
    card, name, _ = holder("000")
    assert gateway.check(card, name.lower(), TEST_DOB) is first  # the same person, typed differently
    ticker.now += 2  # 901 s after the first check
    later = gateway.check(*holder("000"))
    assert later is not first and later.usable and checks_asked(fresh_simulator) == 2


def test_another_name_or_birth_date_is_asked(fresh_simulator, gateway_for):
    gateway = gateway_for(fresh_simulator)
    card, name, born = holder("000")
    gateway.check(card, name, born)
    assert gateway.check(card, "NGUYỄN VĂN KHÁC", born).status is CoverageStatus.MISMATCH
    assert checks_asked(fresh_simulator) == 2


def test_answers_are_forgotten_when_the_day_changes(fresh_simulator, gateway_for):
    clock = FixedClock(datetime(2026, 5, 4, 16, 59, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))
    gateway = gateway_for(fresh_simulator, clock=clock, recheck_after_s=86400)
    first = gateway.check(*holder("000"))
    assert gateway.check(*holder("000")) is first
    clock.advance(hours=8)  # the next morning
    assert gateway.check(*holder("000")) is not first and checks_asked(fresh_simulator) == 2


def test_unavailable_and_settings_refusals_are_not_kept(fresh_simulator, gateway_for):
    gateway = gateway_for(fresh_simulator, timeout_s=3.0)
    fresh_simulator.mode(down=True)
    assert gateway.check(*holder("000")).status is UNAVAILABLE
    fresh_simulator.mode(down=False)
    assert gateway.check(*holder("000")).usable  # asked again, not the kept "unavailable"
    assert gateway.check(*holder("054")).status is CoverageStatus.REFUSED
    assert gateway.check(*holder("054")).status is CoverageStatus.REFUSED
    assert fresh_simulator.stats()["results"] == {"000": 1, "054": 2}


def test_card_refusals_and_other_answers_about_the_card_are_kept(fresh_simulator, gateway_for):
    gateway = gateway_for(fresh_simulator)
    for code in ("110", "010", "050", "060"):
        assert gateway.check(*holder(code)) is gateway.check(*holder(code))
    assert checks_asked(fresh_simulator) == 4


def test_recheck_after_zero_always_asks(fresh_simulator, gateway_for):
    gateway = gateway_for(fresh_simulator, recheck_after_s=0)
    gateway.check(*holder("000"))
    gateway.check(*holder("000"))
    assert checks_asked(fresh_simulator) == 2


def test_cache_keys_are_salted_hashes():
    a, b = RecheckCache(900), RecheckCache(900)
    key = a.key("001093012345", "nguyễn văn an", "05/01/1993")
    assert key == a.key("001093012345", "nguyễn văn an", "05/01/1993") != b.key("001093012345", "nguyễn văn an",
                                                                                "05/01/1993")
    assert "012345" not in key and "1993" not in key and len(key) == 40


# --- timeouts, down, stopped -----------------------------------------------------------

@pytest.mark.timeout(40)  # the simulator would answer after 60 s: finishing at all means it did not wait
def test_slow_gateway_beyond_timeout_is_unavailable(fresh_simulator, gateway_for):
    gateway = gateway_for(fresh_simulator, timeout_s=1.0)
    assert gateway.check(*holder("000")).usable  # token taken while the gateway is fast
    fresh_simulator.mode(slow_s=60)
    slow = gateway.check(*holder("010"))
    assert slow.status is UNAVAILABLE and slow.result_code is None and "insurance.timeout_s" in slow.staff_reason
    by_argument = gateway.check(*holder("050"), timeout_s=0.5)
    assert by_argument.status is UNAVAILABLE
    fresh_simulator.mode(slow_s=0)


@pytest.mark.timeout(40)
def test_slow_login_is_bounded_too(fresh_simulator, gateway_for):
    fresh_simulator.mode(slow_s=60)
    result = gateway_for(fresh_simulator, timeout_s=1.0).check(*holder("000"))
    assert result.status is UNAVAILABLE and "token" in result.staff_reason
    fresh_simulator.mode(slow_s=0)


def test_down_gateway_is_unavailable(fresh_simulator, gateway_for):
    fresh_simulator.mode(down=True)
    result = gateway_for(fresh_simulator).check(*holder("000"))
    assert result.status is UNAVAILABLE and "HTTP 503" in result.staff_reason
    assert result.message_key == "coverage.unavailable"


def test_stopped_gateway_is_unavailable(gateway_for, tmp_path):
    from app.sandbox import GatewaySimulator

    sim = GatewaySimulator().start()
    gateway = gateway_for(sim)
    sim.stop()  # connection refused
    result = gateway.check(*holder("000"))
    assert result.status is UNAVAILABLE and "ConnectionError" in result.staff_reason


@pytest.mark.timeout(40)
def test_a_gateway_that_trickles_its_reply_is_cut_off(gateway_for, tmp_path):
    """Headers one byte every 0.3 s: each read is within the socket timeout, so
    only the check's overall bound stops the wait."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
                    if stop.wait(0.3):
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        result = gateway_for(f"http://127.0.0.1:{port}", timeout_s=1.0).check(*holder("000"))
        assert result.status is UNAVAILABLE and "insurance.timeout_s" in result.staff_reason
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_a_closed_gateway_answers_unavailable(simulator, gateway_for):
    gateway = gateway_for(simulator)
    gateway.close()
    result = gateway.check(*holder("000"))
    assert result.status is UNAVAILABLE and "closed" in result.staff_reason
