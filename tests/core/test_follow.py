"""Ticket links (kiosk.board.follow): signed, day-long tokens without a shared
database; the secret file's checks; the link on every ticket."""
from __future__ import annotations

import os
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from kiosk.board.follow import FollowLinks, FollowLinkStage, FollowTokens, follow_links, read_secret, write_secret
from kiosk.checkin.visit_rules import make_ticket
from kiosk.config.loader import config_from_dict
from kiosk.domain import CheckInResult, ClinicRoom, Department
from kiosk.errors import ConfigError

DAY = date(2026, 3, 2)
SECRET = b"0123456789abcdef0123456789abcdef"


def test_a_token_gives_back_its_checkin_id_on_its_day_only():
    tokens = FollowTokens(SECRET)
    cid = str(uuid.uuid4())
    token = tokens.make(cid, DAY)
    assert len(token) == 48 and token.replace("-", "").replace("_", "").isalnum()
    assert tokens.check(token, DAY) == cid
    assert tokens.check(token, DAY + timedelta(days=1)) is None  # expired at midnight
    assert tokens.check(token, DAY - timedelta(days=1)) is None
    assert cid not in token and cid.replace("-", "") not in token


def test_tampered_foreign_and_malformed_tokens_are_refused():
    tokens = FollowTokens(SECRET)
    token = tokens.make(str(uuid.uuid4()), DAY)
    for i in range(len(token)):
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]
        assert tokens.check(changed, DAY) is None
    assert FollowTokens(b"another secret of enough length!").check(token, DAY) is None
    for junk in ("", "!!!", "a" * 400, token + "=", token[:-1], "t/" + token):
        assert tokens.check(junk, DAY) is None


def test_other_checkin_ids_are_signed_too():
    tokens = FollowTokens(SECRET)
    assert tokens.check(tokens.make("retry-42", DAY), DAY) == "retry-42"
    with pytest.raises(ValueError):
        tokens.make("x" * 65, DAY)


def test_secret_file_is_written_private_and_checked(tmp_path):
    path = write_secret(tmp_path / "queue.secret")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert len(read_secret(str(path))) == 64
    with pytest.raises(ConfigError):
        write_secret(path)  # never silently replaced
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="0600"):
        read_secret(str(path))
    short = tmp_path / "short"
    short.write_text("abc")
    os.chmod(short, 0o600)
    with pytest.raises(ConfigError, match="at least 32"):
        read_secret(str(short))
    assert repr(FollowTokens(SECRET)) == "FollowTokens(<secret>)"


def test_config_needs_the_secret_file_with_a_public_url(tmp_path):
    with pytest.raises(ConfigError, match="queue_web.token_secret_file"):
        config_from_dict({"queue_web": {"public_base_url": "https://sothutu.benhvien.vn"}})
    with pytest.raises(ConfigError, match="queue_web.public_base_url"):
        config_from_dict({"queue_web": {"public_base_url": "https://sothutu.benhvien.vn/"}})
    secret = write_secret(tmp_path / "s")
    cfg = config_from_dict({"queue_web": {"public_base_url": "https://sothutu.benhvien.vn",
                                          "token_secret_file": str(secret)}})
    assert cfg.queue_web.host == "127.0.0.1"
    links = follow_links(cfg.queue_web)
    assert links.url_for("0f0e0d0c-0b0a-4908-8706-050403020100", DAY).startswith("https://sothutu.benhvien.vn/t/")
    assert follow_links(config_from_dict({}).queue_web) is None


class OneTicket:
    def check_in(self, request):
        room = ClinicRoom("P101", "Phòng khám Nội 1", "Tầng 1, Nhà A")
        ticket = make_ticket(reference=request, number=7, label="007", department=Department("NOI", "Nội khoa",
                             (room,)), room=room, issued_at=datetime(2026, 3, 2, 23, 30, tzinfo=timezone.utc),
                             booked=False, priority=None, full_name="NGUYỄN VĂN AN", hospital_name="BV")
        return CheckInResult(ticket, "online", "p1", "e1", None)


def test_every_ticket_gets_its_link_for_the_hospitals_day():
    tokens = FollowTokens(SECRET)
    stage = FollowLinkStage(FollowLinks("https://q.example.vn", tokens), "Asia/Ho_Chi_Minh")
    cid = str(uuid.uuid4())
    result = stage.add_link(OneTicket().check_in(cid))
    url = result.ticket.follow_url
    assert url.startswith("https://q.example.vn/t/")
    # 23:30 UTC is 06:30 the next morning in Hà Nội: the link is for that day
    assert tokens.check(url.rsplit("/", 1)[1], date(2026, 3, 3)) == cid
    assert result.to_json()["ticket"]["follow_url"] == url
    assert OneTicket().check_in(cid).to_json()["ticket"]["follow_url"] is None
