"""No password, token, citizen ID, card number, name or birth date in the logs
(JSON formatter at DEBUG, urllib3 included), the metrics, the results'
reprs and staff reasons, or the input errors — whatever the gateway does."""
from __future__ import annotations

import hashlib
import io
import logging
from datetime import date

import pytest
import requests
from helpers import make_config

from app.sandbox import GatewaySimulator
from bhxh_gateway import BhxhGateway
from kiosk.demo_data import demo_people
from kiosk.errors import InvalidIdentity
from kiosk.operations import metrics
from kiosk.operations.logs import setup_logging
from sandbox_bhxh.cards import ALL_CODES, TEST_BIRTH, TEST_NAME, number_for_code
from sandbox_bhxh.server import PASSWORD, STAFF
from tests.insurance.misbehaving import MisbehavingGateway, Reply
from tests.insurance.support import config_at, holder, insurance_config

pytestmark = pytest.mark.integration


class RecordingSession(requests.Session):
    """Remembers every token and id_token the adapter sends (to look for them)."""

    seen: list[str] = []

    def request(self, method, url, params=None, **kw):
        for key in ("token", "id_token"):
            if params and params.get(key):
                RecordingSession.seen.append(params[key])
        return super().request(method, url, params=params, **kw)


def person_strings(cid: str, name: str, born: date | None, cards=()) -> list[str]:
    out = [cid, cid[-9:], cid[-10:], name, name.title(), name.lower(), " ".join(name.split()[1:]), *cards]
    if born:
        out += [born.isoformat(), born.strftime("%d/%m/%Y"), born.strftime("%d%m%Y"), born.strftime("%Y%m%d")]
    return out


def forbidden() -> dict[str, str]:
    found = {"password": PASSWORD, "password MD5": hashlib.md5(PASSWORD.encode()).hexdigest(),
             "query string": "password=", "check URL with query": "KQNhanLichSuKCB2024?token"}
    for cccd, name in STAFF.items():
        found.update({f"staff {i}": v for i, v in enumerate(person_strings(cccd, name, None))})
    for p in demo_people():
        cards = [p["bhyt"]["card"], p["bhyt"].get("new_card", "")] if p.get("bhyt") else []
        values = person_strings(p["citizen_id"], p["full_name"], date.fromisoformat(p["birth_date"]),
                                [c for c in cards if c])
        found.update({f"{p['key']} {i}": v for i, v in enumerate(values)})
    test_card = number_for_code("000")
    found.update({"test card": test_card, "test card code": f"GD499{test_card[-10:]}", "test name": TEST_NAME,
                  "test birth date": TEST_BIRTH})
    for i, token in enumerate(RecordingSession.seen):
        found[f"token {i}"] = token
    return found


def test_checks_leave_no_secret_or_personal_data_anywhere(tmp_path, caplog):
    metrics.REGISTRY.clear()
    stream = io.StringIO()
    handler = setup_logging(make_config(kiosk={"id": "K-BHYT"}, logging={"level": "DEBUG", "format": "json"}),
                            stream=stream)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)  # worst case: request lines logged too
    texts: list[str] = []
    RecordingSession.seen = []
    try:
        with GatewaySimulator() as sim:
            config = insurance_config(sim, tmp_path, timeout_s=1.5)
            gw = BhxhGateway(config.insurance, session_factory=RecordingSession)
            texts.append(repr(gw))
            for p in demo_people():
                born = date.fromisoformat(p["birth_date"])
                for r in (gw.check(p["citizen_id"], p["full_name"], born),
                          gw.check(p["citizen_id"], p["full_name"] + " X", born)):  # 060 when the card exists
                    texts += [repr(r), r.staff_reason, str(r.to_json())]
            for code in ALL_CODES:
                r = gw.check(*holder(code))
                texts += [repr(r), r.staff_reason, str(r.to_json())]
            sim.expire_tokens()
            sim.reject_next(2, style="http")
            texts.append(gw.check(*holder("000")).staff_reason)
            sim.mode(slow_s=5)
            texts.append(gw.check(*holder("010")).staff_reason)
            sim.mode(down=True)
            texts.append(gw.check(*holder("050")).staff_reason)
            texts += [c.detail + c.fix for c in gw.diagnose()]
            sim.mode()
            gw.close()
            stopped = BhxhGateway(config.insurance, session_factory=RecordingSession)
        texts.append(stopped.check(*holder("000")).staff_reason)  # connection refused: requests puts the URL in it
        texts += [c.detail + c.fix for c in stopped.diagnose()]
        stopped.close()
        bad = MisbehavingGateway()
        try:
            garbled = BhxhGateway(config_at(bad.base_url, tmp_path, recheck_after_s=0).insurance,
                                  session_factory=RecordingSession)
            for reply in (Reply(b"<html>" + TEST_NAME.encode() + b"</html>"), Reply(drop=True),
                          Reply(b'{"maKetQua": "000", "gtTheDen": "' + TEST_BIRTH.encode() + b'x"}')):
                bad.reply = reply
                texts.append(garbled.check(*holder("000")).staff_reason)
            garbled.close()
        finally:
            bad.stop()
        for args in (("00109301234", TEST_NAME, date(1980, 1, 1)), (number_for_code("000"), "", date(1980, 1, 1)),
                     (number_for_code("000"), TEST_NAME, 19800101)):
            with pytest.raises(InvalidIdentity) as exc:
                stopped.check(*args)
            texts.append(str(exc.value))
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger("urllib3").setLevel(logging.WARNING)
    log_text = stream.getvalue()
    metrics_text = metrics.REGISTRY.render()
    assert '"event": "insurance.check"' in log_text and "kiosk_insurance_checks_total" in metrics_text
    assert len(RecordingSession.seen) >= 4  # several tokens were issued and used
    # The kiosk's own log records before any formatting: redaction is only the safety net.
    raw = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records if r.name.startswith("kiosk"))
    haystacks = {"log": log_text, "metrics": metrics_text, "results and errors": "\n".join(texts),
                 "kiosk's raw log records": raw}
    leaks = [f"{what} in the {where}" for what, value in forbidden().items() for where, text in haystacks.items()
             if value and value in text]
    assert leaks == []


def test_metrics_count_checks_by_status_and_requests_by_kind(simulator, gateway_for):
    metrics.REGISTRY.clear()
    gateway = gateway_for(simulator, recheck_after_s=0)
    for code in ("000", "010", "050", "060", "110", "100"):
        gateway.check(*holder(code))
    text = metrics.REGISTRY.render()
    for status in ("valid", "expired", "not_found", "mismatch", "refused", "unavailable"):
        assert metrics.REGISTRY.value("kiosk_insurance_checks_total", status=status) == 1, status
    assert metrics.REGISTRY.value("kiosk_insurance_gateway_requests_total", kind="token") == 1
    assert metrics.REGISTRY.value("kiosk_insurance_gateway_requests_total", kind="check") == 6
    assert "# TYPE kiosk_insurance_gateway_seconds histogram" in text
    assert 'kiosk_insurance_gateway_seconds_count{kind="check"} 6' in text
