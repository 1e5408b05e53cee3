"""Replies are validated before use: garbled, empty, HTML, truncated and
wrong-type replies give typed results (`unavailable`), never an exception.
A table over HTTP against a misbehaving loopback server, then hypothesis on
the reply reader and over HTTP."""
from __future__ import annotations

import gzip
import json
from datetime import date, datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bhxh_gateway import BhxhGateway
from bhxh_gateway.reply import Garbled, LoginRefused, interpret, json_object, parse_token
from kiosk.insurance.card_check import CoverageStatus, InsuranceCheck
from tests.insurance.misbehaving import MisbehavingGateway, Reply
from tests.insurance.support import config_at, holder

UNAVAILABLE, REFUSED, VALID = CoverageStatus.UNAVAILABLE, CoverageStatus.REFUSED, CoverageStatus.VALID
Y = date.today().year
GOOD = {"maKetQua": "000", "maThe": "GD4999900000000", "maDKBD": "27001", "gtTheTu": f"01/01/{Y}",
        "gtTheDen": f"31/12/{Y}", "ngayDu5Nam": "", "maKV": None, "ghiChu": "x"}


def good(**changes) -> str:
    return json.dumps({**GOOD, **changes}, ensure_ascii=False)


@pytest.fixture(scope="module")
def server():
    srv = MisbehavingGateway()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def gateway(server, tmp_path_factory):
    gw = BhxhGateway(config_at(server.base_url, tmp_path_factory.mktemp("s"), recheck_after_s=0,
                               timeout_s=3.0, facility_code="27001").insurance)
    yield gw
    gw.close()


TABLE = [
    ("good reply (control)", Reply(good()), VALID),
    ("good reply with a BOM, text/html type", Reply(b"\xef\xbb\xbf" + good().encode(),
                                                    headers={"Content-Type": "text/html"}), VALID),
    ("empty body", Reply(b""), UNAVAILABLE),
    ("whitespace", Reply(b"  \r\n "), UNAVAILABLE),
    ("HTML page", Reply("<html><body>Hệ thống đang bảo trì</body></html>", headers={"Content-Type": "text/html"}),
     UNAVAILABLE),
    ("JSON null", Reply(b"null"), UNAVAILABLE),
    ("JSON list", Reply(b'[{"maKetQua": "000"}]'), UNAVAILABLE),
    ("JSON string", Reply(b'"000"'), UNAVAILABLE),
    ("truncated JSON", Reply(good()[:40]), UNAVAILABLE),
    ("truncated transfer", Reply(good().encode()[:40], declared_length=len(good().encode())), UNAVAILABLE),
    ("connection dropped", Reply(drop=True), UNAVAILABLE),
    ("not UTF-8", Reply(b'{"maKetQua": "000", "x": "\xff\xfe"}'), UNAVAILABLE),
    ("gzip declared, not gzip", Reply(good(), headers={"Content-Encoding": "gzip"}), UNAVAILABLE),
    ("gzip, real", Reply(gzip.compress(good().encode()), headers={"Content-Encoding": "gzip"}), VALID),
    ("2 MB of spaces", Reply(b" " * 2_000_000), UNAVAILABLE),
    ("maKetQua missing", Reply(b'{"ghiChu": "x"}'), UNAVAILABLE),
    ("maKetQua a number", Reply(good(maKetQua=0)), UNAVAILABLE),
    ("maKetQua null", Reply(good(maKetQua=None)), UNAVAILABLE),
    ("maKetQua a list", Reply(good(maKetQua=["000"])), UNAVAILABLE),
    ("maKetQua not digits", Reply(good(maKetQua="OK")), UNAVAILABLE),
    ("maKetQua far too long", Reply(good(maKetQua="0" * 40)), UNAVAILABLE),
    ("unknown code", Reply(good(maKetQua="999")), UNAVAILABLE),
    ("usable code without dates", Reply(b'{"maKetQua": "000"}'), UNAVAILABLE),
    ("ISO end date", Reply(good(gtTheDen=f"{Y}-12-31")), UNAVAILABLE),
    ("impossible end date", Reply(good(gtTheDen=f"31/02/{Y}")), UNAVAILABLE),
    ("end date a number", Reply(good(gtTheDen=3112 * 10000 + Y)), UNAVAILABLE),
    ("start date an object", Reply(good(gtTheTu={"d": 1})), UNAVAILABLE),
    ("facility a number", Reply(good(maDKBD=27001)), UNAVAILABLE),
    ("facility too short", Reply(good(maDKBD="2700")), UNAVAILABLE),
    ("five years a list", Reply(good(ngayDu5Nam=["01/01/2015"])), UNAVAILABLE),
    ("card code with spaces inside", Reply(good(maThe="GD4 99 9900000000")), UNAVAILABLE),
    ("new card without its dates", Reply(good(maKetQua="003", maTheMoi="DN4999900000003")), UNAVAILABLE),
    ("expired with garbled extras", Reply(good(maKetQua="010", gtTheDen=12, maDKBD=[1])), CoverageStatus.EXPIRED),
    ("not found, fields null", Reply(good(maKetQua="050", maThe=None, gtTheTu=None, gtTheDen=None)),
     CoverageStatus.NOT_FOUND),
    ("HTTP 500 JSON", Reply(good(), status=500), UNAVAILABLE),
    ("HTTP 502 HTML", Reply(b"<html>bad gateway</html>", status=502), UNAVAILABLE),
    ("HTTP 429", Reply(b"", status=429), UNAVAILABLE),
    ("HTTP 404", Reply(b"not found", status=404), REFUSED),
    ("HTTP 403", Reply(b"forbidden", status=403), REFUSED),
    ("redirect", Reply(b"", status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"}), REFUSED),
]


@pytest.mark.parametrize("what, reply, status", TABLE, ids=[t[0] for t in TABLE])
def test_misbehaving_replies_give_typed_results(server, gateway, what, reply, status):
    server.reply = reply
    result = gateway.check(*holder("000"))
    assert isinstance(result, InsuranceCheck) and result.status is status, result.staff_reason
    if status is UNAVAILABLE:
        assert result.message_key == "coverage.unavailable" and not result.about_card and result.staff_reason


def test_unknown_code_is_named_in_the_staff_reason(server, gateway):
    server.reply = Reply(good(maKetQua="999"))
    assert "unknown result code 999" in gateway.check(*holder("000")).staff_reason


@pytest.mark.parametrize("token_reply", [
    Reply(b""), Reply(b"<html>login</html>"), Reply(b'{"maKetQua": "200"}'),
    Reply(b'{"maKetQua": "200", "APIKey": {"access_token": "", "id_token": "x"}}'),
    Reply(b'{"maKetQua": "200", "APIKey": {"access_token": 5, "id_token": "x"}}'),
    Reply(b'{"maKetQua": 200, "APIKey": {}}'), Reply(b"[]", status=503), Reply(drop=True),
], ids=["empty", "html", "no APIKey", "empty token", "token a number", "code a number", "503", "dropped"])
def test_misbehaving_login_replies_give_unavailable(server, tmp_path, token_reply):
    server.token_reply = token_reply
    gw = BhxhGateway(config_at(server.base_url, tmp_path, timeout_s=3.0).insurance)
    try:
        result = gw.check(*holder("000"))
    finally:
        gw.close()
        server.token_reply = Reply(json.dumps({"maKetQua": "200", "APIKey": {
            "access_token": "tok-A", "id_token": "id-A", "expires_in": 600}}))
    assert result.status is UNAVAILABLE and result.staff_reason.startswith("token:")


# --- hypothesis ------------------------------------------------------------------------

FIELDS = ["maKetQua", "maThe", "maDKBD", "gtTheTu", "gtTheDen", "ngayDu5Nam", "maKV", "maTheMoi", "maDKBDMoi",
          "gtTheTuMoi", "gtTheDenMoi", "ghiChu"]
CODES = st.sampled_from(["000", "001", "002", "003", "004", "010", "050", "060", "110", "401", "999", "", "0"])
DATES = st.one_of(st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
                  st.from_regex(r"\A[0-9]{2}/[0-9]{2}/[0-9]{4}\Z"))
VALUES = st.one_of(st.none(), st.text(max_size=20), st.integers(), st.floats(allow_nan=True), st.booleans(),
                   DATES, CODES, st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                                     st.integers(), max_size=2))
REPLIES = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=len(FIELDS))


@settings(max_examples=250, deadline=None)
@given(REPLIES)
def test_the_reply_reader_returns_a_result_or_garbled(obj):
    now = datetime.now(timezone.utc)
    try:
        result = interpret(obj, queried_card="001093012345", today=now.date(), facility_code="27001",
                           checked_at=now)
    except Garbled as exc:
        assert str(exc) and "001093012345" not in str(exc)
        return
    assert isinstance(result, InsuranceCheck) and result.result_code == obj["maKetQua"]
    if result.status is VALID:
        assert result.valid_to is not None and result.valid_to >= now.date()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_an_object_or_garbled(body):
    try:
        assert isinstance(json_object(body), dict)
    except Garbled:
        pass


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["maKetQua", "APIKey"]), st.one_of(VALUES, st.fixed_dictionaries(
    {}, optional={"access_token": VALUES, "id_token": VALUES, "expires_in": VALUES}))))
def test_any_login_reply_is_a_token_or_an_error(obj):
    try:
        access, ident, expires_at = parse_token(obj, 100.0)
    except (Garbled, LoginRefused):
        return
    assert access and ident and 100.0 < expires_at < 100.0 + 7 * 86400


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10) | DATES | CODES,
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                           st.sampled_from(FIELDS), inner, max_size=6), max_leaves=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(JSONISH.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200),
                 REPLIES.map(lambda d: json.dumps(d, default=str).encode())),
       st.sampled_from([200, 200, 200, 500, 404]))
def test_fuzzed_replies_over_http_give_typed_results(server, gateway, body, status):
    server.reply = Reply(body, status=status)
    result = gateway.check(*holder("000"))
    assert isinstance(result, InsuranceCheck) and isinstance(result.status, CoverageStatus)
