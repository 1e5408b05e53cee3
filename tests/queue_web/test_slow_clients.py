"""The queue service keeps serving under slow and abusive clients (real
processes on loopback, random free ports; every attack bounded in connections
and in time and stopped by the test):

- slowloris: a few hundred connections trickling header bytes from one address,
  more than uvicorn's concurrency limit, while an ordinary board and a phone
  page are served (200, and their stream events); the slow ones are closed at
  the header deadline;
- the per-address cap: a slow connection gives way to a new one from the same
  address; at the cap with real requests only, a new connection is closed at
  once; both counted in the metrics;
- every connection is forgotten when it ends (websocket upgrades included);
- feeds: permutations of a room list share one feed, unknown rooms start none,
  one client's new feeds are limited, and a stranger never pushes out a real
  board's feed.
"""
from __future__ import annotations

import itertools
import re
import socket
import threading
import time

import pytest
import requests

from kiosk.board.follow import FollowTokens, read_secret
from kiosk.clock import SystemClock
from kiosk.config.loader import config_from_dict
from kiosk.demo_data import load_demo
from queue_web import QueueWebParts
from queue_web.server import make_server
from tests.helpers import free_port
from tests.queue_web.conftest import kiosk_cli, start_server, wait_for
from tests.queue_web.slow_clients import EventReader, Slowloris

pytestmark = pytest.mark.integration

HEADER_TIMEOUT_S = 2.0
BODY_TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def guarded(his, secret, tmp_path_factory):
    # max_streams = 3: uvicorn's limit_concurrency is 203, below the 220 slow connections
    srv = start_server(tmp_path_factory.mktemp("slow"), his, secret, queue_web={
        "trusted_proxies": [], "max_streams": 3, "max_connections_per_client": 1000,
        "header_timeout_s": HEADER_TIMEOUT_S, "body_timeout_s": BODY_TIMEOUT_S, "heartbeat_s": 1.0})
    yield srv
    srv.stop()


def test_slowloris_from_one_address_does_not_stop_boards_and_phones(guarded):
    ticket = kiosk_cli(guarded.config, "checkin", "--id", "027185004321", "--department", "NOI", "--json")["ticket"]
    phone = ticket["follow_url"].replace(guarded.url, "")
    board = EventReader(guarded.url + "/board-events/NOI")
    wait_for(lambda: board.named("board"), timeout=20)
    attack = Slowloris(guarded.port, 220, max_opens=700, max_seconds=40).start()
    try:
        wait_for(lambda: guarded.status()["awaiting_head"] >= 200, timeout=20)
        started = time.monotonic()
        assert guarded.get("/board/NOI").status_code == 200
        page = guarded.get(phone)
        assert page.status_code == 200 and ticket["label"] in page.text
        phone_events = EventReader(guarded.url + phone + "/events")
        second_board = EventReader(guarded.url + "/board-events/NOI")
        wait_for(lambda: phone_events.named("visit") or phone_events.named("progress") or phone_events.events,
                 timeout=15)
        wait_for(lambda: second_board.named("board"), timeout=15)
        assert phone_events.status == 200 and second_board.status == 200
        newer = kiosk_cli(guarded.config, "checkin", "--id", "001093012345", "--department", "NOI", "--json")["ticket"]
        wait_for(lambda: any(newer["label"] in str(d) for d in board.named("board", since=started)), timeout=20)
        assert board.named("ping", since=started)  # the open stream kept flowing
        status = guarded.status()
        assert status["awaiting_head"] >= 150  # still under attack while all of that was served
        # and the slow ones are closed at the header deadline while the attacker keeps re-opening them
        wait_for(lambda: guarded.status()["connections_evicted"]["header_timeout"] >= 200,
                 timeout=HEADER_TIMEOUT_S + 15)
        phone_events.close()
        second_board.close()
    finally:
        attack.stop()
        board.close()
    assert attack.closed_by_server >= 200  # the server closed them, at the header deadline
    wait_for(lambda: guarded.status()["awaiting_head"] <= 2, timeout=HEADER_TIMEOUT_S + 5)


def test_a_slow_connection_is_closed_at_the_header_deadline(guarded):
    attack = Slowloris(guarded.port, 5, reopen=False, max_seconds=20).start()
    opened = time.monotonic()
    try:
        wait_for(lambda: not attack.open, timeout=HEADER_TIMEOUT_S + 5, every=0.05)
        took = time.monotonic() - opened
    finally:
        attack.stop()
    assert HEADER_TIMEOUT_S - 0.3 <= took <= HEADER_TIMEOUT_S + 3
    with socket.create_connection(("127.0.0.1", guarded.port), timeout=10) as s:  # a whole head in time: served
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(HEADER_TIMEOUT_S / 2)
        s.sendall(b"\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")


def test_a_stalled_request_body_is_closed_too(guarded):
    before = guarded.status()["connections_evicted"]
    with socket.create_connection(("127.0.0.1", guarded.port), timeout=15) as s:
        s.sendall(b"POST /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
        started = time.monotonic()
        data = b""
        try:
            while chunk := s.recv(4096):
                data += chunk
        except ConnectionResetError:
            pass
        took = time.monotonic() - started
    assert BODY_TIMEOUT_S - 0.3 <= took <= BODY_TIMEOUT_S + 3  # closed at the body deadline
    assert guarded.status()["connections_evicted"]["body_timeout"] == before["body_timeout"] + 1


def _metric(text: str, name: str, **labels) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if want else "") + r" ([0-9.e+]+)"
    found = re.search(pattern, text)
    return float(found.group(1)) if found else 0.0


def test_per_address_cap_slow_ones_give_way_real_ones_fill_it(his, secret, tmp_path):
    metrics_port = free_port()
    srv = start_server(tmp_path, his, secret, queue_web={
        "trusted_proxies": [], "max_connections_per_client": 10, "header_timeout_s": 20.0},
        metrics={"enabled": True, "port": metrics_port})
    attack = Slowloris(srv.port, 40, reopen=False, max_seconds=30)
    streams: list[requests.Response] = []
    try:
        attack.start()
        wait_for(lambda: len(attack.open) <= 10, timeout=10)  # the 30 oldest slow ones gave way
        assert srv.get("/health").status_code == 200  # a real request from the same address gets in
        for _ in range(10):
            streams.append(requests.get(srv.url + "/board-events/NOI", stream=True, timeout=10))
        assert all(r.status_code == 200 for r in streams)
        wait_for(lambda: not attack.open, timeout=10)  # every slow one made room
        with pytest.raises(requests.exceptions.ConnectionError):  # at the cap, all real: closed at once
            requests.get(srv.url + "/health", timeout=5)
        scrape = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        assert _metric(scrape, "kiosk_queue_connections_refused_total") >= 1
        assert _metric(scrape, "kiosk_queue_connections_evicted_total", reason="displaced") >= 40
        streams.pop().close()
        wait_for(lambda: _health(srv), timeout=10)  # a place is free again
    finally:
        attack.stop()
        for r in streams:
            r.close()
        srv.stop()
    refused = [line for line in srv.log_lines if "queue_web.connection_refused" in line]
    assert refused and not any("127.0.0.1" in line for line in refused)  # logged without the address


def _health(srv) -> bool:
    try:
        return srv.get("/health", timeout=5).status_code == 200
    except requests.exceptions.ConnectionError:
        return False


@pytest.fixture(scope="module")
def feeds(his, secret, tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("feeds"), his, secret, queue_web={
        "max_room_sets": 4, "max_new_feeds_per_client": 3})
    yield srv
    srv.stop()


def _as(client: str) -> dict:
    return {"X-Forwarded-For": client}  # from the trusted proxy (127.0.0.1): the client it names


def test_permutations_share_a_feed_unknown_rooms_start_none_and_real_boards_stay(feeds):
    real = EventReader(feeds.url + "/board-events/NOI", headers=_as("10.1.0.1"))
    wait_for(lambda: real.named("board"), timeout=20)
    rooms = feeds.feed("department:NOI")["rooms"]
    assert len(rooms) >= 2
    stranger = _as("10.9.9.9")
    a, b = rooms[:2]
    variants = [",".join(p) for n in range(2, 7) for p in itertools.product((a, b, f" {a}", f"{b} "), repeat=n)
                if {x.strip() for x in p} == {a, b}][:41]  # 41 orders and repeats of the same two rooms
    assert len(variants) == 41
    try:
        for v in variants:
            assert feeds.get(f"/board?rooms={v}", headers=stranger).status_code == 200
        keys = {f["key"] for f in feeds.status()["feeds"]}
        assert keys == {"department:NOI", "rooms:" + ",".join(sorted(rooms[:2]))}  # one feed for all of them
        for bad in ("NOPE", f"{rooms[0]},NOPE", "ZZ1,ZZ2", "x" * 30, "../etc"):
            assert feeds.get(f"/board?rooms={bad}", headers=stranger).status_code == 404
            assert feeds.get(f"/board-events?rooms={bad}", headers=stranger).status_code == 404
        assert len(feeds.status()["feeds"]) == 2  # unknown rooms started nothing
        page = feeds.get(f"/board?rooms={rooms[1]},{rooms[0]}", headers=stranger).text
        assert page.index(f'data-room="{rooms[1]}"') < page.index(f'data-room="{rooms[0]}"')  # shown as asked

        # one client's new feeds: max_new_feeds_per_client a minute (the first was the permutations')
        others = [r["code"] for d in load_demo()["departments"] if d["code"] not in ("NOI", "MAT") for r in d["rooms"]]
        assert len(others) >= 6
        answers = [feeds.get(f"/board?rooms={r}", headers=stranger) for r in others[:3]]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert int(answers[2].headers["retry-after"]) >= 1
        assert feeds.status()["feeds_refused"]["client"] == 1
        # the cap (4) is full: the NOI board's feed and three nobody watches
        assert len(feeds.status()["feeds"]) == 4
        time.sleep(10.5)  # past the grace a new feed's board has to open its stream
        other = EventReader(feeds.url + "/board-events/MAT", headers=_as("10.1.0.2"))  # a real board elsewhere
        wait_for(lambda: other.named("board"), timeout=20)
        assert other.status == 200
        for n, r in enumerate(others[3:6]):  # strangers from other addresses: only unwatched feeds make room
            assert feeds.get(f"/board?rooms={r}", headers=_as(f"10.9.8.{n}")).status_code in (200, 503)
        keys = {f["key"]: f for f in feeds.status()["feeds"]}
        assert keys["department:NOI"]["boards"] == 1 and keys["department:MAT"]["boards"] == 1
        assert len(keys) <= 4
        other.close()
    finally:
        real.close()


def test_every_connection_is_forgotten_when_it_ends_websocket_upgrades_included(secret):
    config = config_from_dict({"queue_web": {"token_secret_file": str(secret), "trusted_proxies": []}})
    parts = QueueWebParts(config=config, departments=lambda: [], make_poller=None, clock=SystemClock(),
                          tokens=FollowTokens(read_secret(str(secret))))
    bound = {}
    server = make_server(parts, host="127.0.0.1", port=0, on_ready=lambda h, p: bound.update(port=p))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: bound.get("port"))
        with socket.create_connection(("127.0.0.1", bound["port"]), timeout=10) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            assert s.recv(4096)  # an answer (the app has no websocket route: refused)
        for _ in range(3):
            assert requests.get(f"http://127.0.0.1:{bound['port']}/health", timeout=10).text == "ok"
        wait_for(lambda: server.guard.status()["connections"] == 0, timeout=10)
        assert server.guard.by_peer == {}
    finally:
        server.should_exit = True
        thread.join(10)
