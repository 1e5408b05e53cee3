"""The gateway's replies are bounded in size and in time, against a real
loopback server: a huge reply, a chunked reply that never ends and a reply
that trickles one byte at a time all end the check as ``unavailable`` within
``insurance.timeout_s`` (the socket is shut at the deadline), nothing more is
read, and a huge free-text field never reaches the result."""
from __future__ import annotations

import json
import time
from datetime import date

import pytest

from bhxh_gateway import BhxhGateway
from kiosk.insurance.card_check import CoverageStatus
from tests.insurance.misbehaving import MisbehavingGateway, Reply
from tests.insurance.support import config_at, holder

Y = date.today().year
GOOD = {"maKetQua": "000", "maThe": "GD4999900000000", "maDKBD": "27001", "gtTheTu": f"01/01/{Y}",
        "gtTheDen": f"31/12/{Y}"}
TIMEOUT_S = 1.5


@pytest.fixture(scope="module")
def server():
    srv = MisbehavingGateway()
    yield srv
    srv.stop()


@pytest.fixture
def gateway(server, tmp_path):
    gw = BhxhGateway(config_at(server.base_url, tmp_path, recheck_after_s=0, timeout_s=TIMEOUT_S,
                               facility_code="27001").insurance)
    yield gw
    gw.close()


@pytest.mark.parametrize("reply, why", [
    (Reply(endless=True), "not complete within"),
    (Reply(json.dumps(GOOD).encode() + b" " * 10_000, trickle_s=0.01), "not complete within"),
    (Reply(b" " * 50_000_000), "larger than"),
], ids=["endless chunked", "trickling", "50 MB"])
def test_a_reply_that_is_too_large_or_never_ends_is_unavailable_within_the_timeout(server, gateway, reply, why):
    server.reply = reply
    started = time.monotonic()
    result = gateway.check(*holder("000"))
    took = time.monotonic() - started
    assert result.status is CoverageStatus.UNAVAILABLE and why in result.staff_reason, result.staff_reason
    assert took < TIMEOUT_S + 1.0, took


def test_a_huge_free_text_field_is_not_read_into_the_result(server, gateway):
    server.reply = Reply(json.dumps({**GOOD, "ghiChu": "Nguyễn " * 20_000}, ensure_ascii=False))
    result = gateway.check(*holder("000"))
    assert result.status is CoverageStatus.VALID
    assert len(result.staff_reason) < 400 and "Nguyễn" not in result.staff_reason
