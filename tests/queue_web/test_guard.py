"""What the queue service refuses, and how: 404 for every token that does not
verify, rate limits and stream caps per client and in total, a plain 500 page
with the detail (redacted) only in the log, security headers, and the HIS
stopped → the boards and phone pages say so and keep their last state."""
from __future__ import annotations

import base64
import threading
import uuid
from datetime import timedelta

import pytest
import requests

from kiosk.board.follow import FollowTokens, read_secret
from kiosk.clock import SystemClock
from kiosk.config.loader import config_from_dict
from tests.queue_web.conftest import kiosk_cli, start_server, wait_for

pytestmark = pytest.mark.integration


def _ticket(server, department="NGOAI") -> dict:
    return kiosk_cli(server.config, "checkin", "--id", "027185004321", "--department", department, "--json")["ticket"]


def test_unknown_expired_tampered_and_foreign_tokens_are_the_same_plain_404(server, secret):
    ticket = _ticket(server)
    good = ticket["follow_url"].rsplit("/", 1)[1]
    assert server.get(f"/t/{good}").status_code == 200
    tokens = FollowTokens(read_secret(str(secret)))
    today = SystemClock("Asia/Ho_Chi_Minh").now().date()
    raw = bytearray(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
    raw[7] ^= 0x01  # one bit of the check-in id changed
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    bad = {
        "unknown": base64.urlsafe_b64encode(uuid.uuid4().bytes * 2 + b"1234").rstrip(b"=").decode(),
        "expired": tokens.make(ticket["reference"], today - timedelta(days=1)),
        "tomorrow": tokens.make(ticket["reference"], today + timedelta(days=1)),
        "tampered": tampered,
        "other secret": FollowTokens(b"another hospital's secret, 32+ chars").make(ticket["reference"], today),
        "garbage": "not-a-token",
        "too long": "A" * 500,
    }
    pages = {}
    for why, token in bad.items():
        for path in (f"/t/{token}", f"/t/{token}/events"):
            r = server.get(path)
            assert r.status_code == 404, why
            pages[(why, path)] = r.text
    body = next(iter(pages.values()))
    assert all(text == body for text in pages.values())  # nothing tells which check failed
    assert "Không tìm thấy trang" in body and "Page not found" in body and "Traceback" not in body
    assert server.get("/no/such/page").text == body
    assert good not in server.log_text() and "/t/…" in server.log_text()


def test_a_valid_token_the_his_does_not_know_yet_is_an_offline_ticket_being_registered(server, secret):
    tokens = FollowTokens(read_secret(str(secret)))
    token = tokens.make(str(uuid.uuid4()), SystemClock("Asia/Ho_Chi_Minh").now().date())
    r = server.get(f"/t/{token}")
    assert r.status_code == 200
    assert 'data-state="pending"' in r.text and "Đang ghi nhận số của bạn" in r.text
    r = server.get(f"/t/{token}?lang=en")
    assert "Your number is being registered" in r.text and "stays valid" in r.text


def test_security_headers_and_plain_answers(server):
    r = server.get("/board/NOI")
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert "server" not in r.headers
    assert server.get("/health").text == "ok"
    assert server.get("/board/NOSUCH").status_code == 404
    assert server.get("/board?rooms=P101,NOPE").status_code == 404
    assert server.get("/audio/unknown.wav").status_code == 404


@pytest.fixture(scope="module")
def tight(his, secret, tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("tight"), his, secret, queue_web={
        "requests_per_minute": 30, "max_streams_per_client": 2, "max_streams": 3})
    yield srv
    srv.stop()


def _as(client: str) -> dict:
    return {"X-Forwarded-For": client}  # from a trusted proxy (127.0.0.1): the client it names


def test_rate_limit_per_client(tight):
    answers = [tight.get("/health", headers=_as("10.0.0.1")).status_code for _ in range(31)]
    assert answers[:30] == [200] * 30
    refused = tight.get("/health", headers=_as("10.0.0.1"))
    assert answers[30] == 429 and refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "Quá nhiều yêu cầu" in refused.text and "Too many requests" in refused.text
    assert tight.get("/health", headers=_as("10.0.0.2")).status_code == 200  # others are not affected
    assert tight.status()["rate_limited"] >= 2


def test_stream_caps_per_client_and_in_total(tight):
    def open_stream(client):
        return requests.get(tight.url + "/board-events/NOI", headers=_as(client), stream=True, timeout=10)

    a1, a2 = open_stream("10.0.1.1"), open_stream("10.0.1.1")
    assert (a1.status_code, a2.status_code) == (200, 200)
    a3 = open_stream("10.0.1.1")
    assert a3.status_code == 429 and "quá nhiều trang theo dõi" in a3.text
    b1 = open_stream("10.0.1.2")
    assert b1.status_code == 200
    c1 = open_stream("10.0.1.3")
    assert c1.status_code == 503 and "quá nhiều màn hình" in c1.text and "too many screens" in c1.text
    assert tight.status()["streams"] == 3
    a1.close()  # a closed screen frees its place at once
    wait_for(lambda: tight.status()["streams"] == 2)
    c2 = open_stream("10.0.1.3")
    assert c2.status_code == 200
    for r in (a2, a3, b1, c1, c2):
        r.close()


class Exploding:
    """A VisitFinder whose HIS adapter fails unexpectedly (with an ID in its message)."""

    def find_visit(self, checkin_id):
        raise RuntimeError("adapter bug while reading 001093012345")

    def list_departments(self, *, refresh=False):
        return []


def test_an_unexpected_error_is_a_plain_500_and_only_the_log_has_the_detail(tmp_path, secret, caplog):
    from queue_web import QueueWebParts
    from queue_web.server import make_server

    config = config_from_dict({"queue_web": {"token_secret_file": str(secret)}})
    tokens = FollowTokens(read_secret(str(secret)))
    parts = QueueWebParts(config=config, departments=lambda: [], make_poller=None, clock=SystemClock(),
                          visits=Exploding(), tokens=tokens)
    bound = {}
    server = make_server(parts, host="127.0.0.1", port=0, on_ready=lambda h, p: bound.update(port=p))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: bound.get("port"))
        token = tokens.make(str(uuid.uuid4()), SystemClock().now().date())
        with caplog.at_level("ERROR", logger="queue_web"):
            r = requests.get(f"http://127.0.0.1:{bound['port']}/t/{token}", timeout=10)
    finally:
        server.should_exit = True
        thread.join(10)
    assert r.status_code == 500
    assert "Đã có lỗi xảy ra" in r.text and "Something went wrong" in r.text
    assert "Traceback" not in r.text and "RuntimeError" not in r.text and "001093012345" not in r.text
    errors = [rec for rec in caplog.records if getattr(rec, "event", "") == "queue_web.error"]
    assert len(errors) == 1 and "RuntimeError" in errors[0].detail
    assert token not in errors[0].getMessage() + errors[0].detail  # the token is scrubbed…
    from kiosk.operations.logs import JsonFormatter

    line = JsonFormatter().format(errors[0])
    assert "001093012345" not in line and "********2345" in line  # …and the ID redacted


def test_his_stopped_boards_and_phones_keep_their_last_state_under_a_banner(secret, browser, tmp_path):
    from app.sandbox import SandboxHis

    his = SandboxHis(port=0).start()
    srv = start_server(tmp_path, his, secret)
    try:
        seen = _ticket(srv, "MAT")
        never_opened = _ticket(srv, "MAT")
        phone = seen["follow_url"].replace(srv.url, "")
        assert srv.get(phone).status_code == 200  # looked up while the HIS is up
        browser.size(1920, 1080)
        browser.open(srv.url + "/board/MAT")
        wait_for(lambda: seen["label"] in browser.text())
        his.stop()
        wait_for(lambda: not browser.js("return document.getElementById('stale').hidden"), timeout=30)
        banner = browser.js("return document.getElementById('stale').textContent")
        assert banner.startswith("Chưa cập nhật từ ") and "đang kết nối lại" in banner
        assert seen["label"] in browser.text()  # the last known numbers stay
        browser.size(360, 740, phone=True)
        browser.open(srv.url + phone)
        assert "Chưa cập nhật từ" in browser.text() and seen["label"] in browser.text()
        browser.open(srv.url + never_opened["follow_url"].replace(srv.url, ""))
        assert browser.js("return document.body.dataset.state") == "his_down"
        assert "Chưa kết nối được hệ thống bệnh viện" in browser.text()
    finally:
        srv.stop()
        his.stop()
