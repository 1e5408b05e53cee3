"""The login token: one per many checks and threads, renewed when it expires
or is refused, and given up after one renewal."""
from __future__ import annotations

import threading
import time

import pytest

from kiosk.insurance.card_check import CoverageStatus
from tests.insurance.support import holder

pytestmark = pytest.mark.integration


def test_100_checks_over_8_threads_cost_one_token_request(fresh_simulator, gateway_for):
    gateway = gateway_for(fresh_simulator, recheck_after_s=0)  # no cache: every check asks the gateway
    card, name, born = holder("000")
    results, lock = [], threading.Lock()

    def worker(n):
        for _ in range(n):
            r = gateway.check(card, name, born)
            with lock:
                results.append(r.status)

    threads = [threading.Thread(target=worker, args=(n,)) for n in [13] * 4 + [12] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = fresh_simulator.stats()
    assert results == [CoverageStatus.VALID] * 100
    assert stats["token_requests"] == 1 and stats["check_requests"] == 100


def test_an_expired_token_is_renewed_before_asking(fresh_simulator, gateway_for):
    fresh_simulator.mode(token_ttl_s=0.6)
    gateway = gateway_for(fresh_simulator, recheck_after_s=0)
    assert gateway.check(*holder("000")).usable
    time.sleep(0.8)  # the token's lifetime passes (the outcome is asserted, not the time)
    assert gateway.check(*holder("000")).usable
    stats = fresh_simulator.stats()
    assert stats["token_requests"] == 2 and stats["tokens_rejected"] == 0


def test_a_token_the_gateway_forgot_is_renewed_once(fresh_simulator, gateway_for):
    gateway = gateway_for(fresh_simulator, recheck_after_s=0)
    assert gateway.check(*holder("000")).usable
    fresh_simulator.expire_tokens()
    result = gateway.check(*holder("000"))
    stats = fresh_simulator.stats()
    assert result.usable and result.result_code == "000"
    assert stats["token_requests"] == 2 and stats["results"] == {"000": 2, "401": 1}


@pytest.mark.parametrize("style, code", [("code", "401"), ("http", None)])
def test_refused_twice_is_refused_after_one_renewal(fresh_simulator, gateway_for, style, code):
    gateway = gateway_for(fresh_simulator, recheck_after_s=0)
    fresh_simulator.reject_next(2, style=style)
    result = gateway.check(*holder("000"))
    stats = fresh_simulator.stats()
    assert result.status is CoverageStatus.REFUSED and result.result_code == code and not result.about_card
    assert "insurance.username and insurance.password_file" in result.staff_reason
    assert stats["token_requests"] == 2 and stats["check_requests"] == 2
    assert gateway.check(*holder("000")).usable  # the gateway accepts tokens again: back to normal


@pytest.mark.parametrize("style", ["code", "http"])
def test_refused_once_is_renewed_and_answered(fresh_simulator, gateway_for, style):
    gateway = gateway_for(fresh_simulator, recheck_after_s=0)
    fresh_simulator.reject_next(1, style=style)
    assert gateway.check(*holder("000")).usable
    assert fresh_simulator.stats()["token_requests"] == 2


def test_wrong_password_is_refused_naming_the_settings(fresh_simulator, gateway_for, tmp_path):
    gateway = gateway_for(fresh_simulator)
    with open(gateway.settings.password_file, "w", encoding="utf-8") as f:
        f.write("not-the-password\n")
    result = gateway.check(*holder("000"))
    assert result.status is CoverageStatus.REFUSED and result.result_code is None
    assert "login" in result.staff_reason and "insurance.password_file" in result.staff_reason
    stats = fresh_simulator.stats()
    assert stats["logins_refused"] == 1 and stats["check_requests"] == 0


def test_the_check_sends_the_form_and_the_query_the_gateway_expects(fresh_simulator, gateway_for):
    gateway_for(fresh_simulator).check(*holder("000"))
    last = fresh_simulator.stats()["last_check"]
    assert last == {"encoding": "form", "query_keys": ["id_token", "password", "token", "username"],
                    "form_keys": ["cccdCb", "hoTen", "hoTenCb", "maThe", "ngaySinh"]}
