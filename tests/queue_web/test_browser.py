"""The queue service's pages in headless Chromium: a board sees a new check-in
within one poll, a phone page turns to "your turn" after `kiosk call-next`,
calls play one after another and are synthesised once, and no page, stream or
log line carries personal data."""
from __future__ import annotations

import io
import json
import threading
import wave
from urllib.parse import urlsplit

import pytest
import requests

from kiosk.demo_data import demo_people
from kiosk.domain import mask_citizen_id, mask_name
from tests.queue_web.conftest import kiosk_cli, wait_for

pytestmark = pytest.mark.integration


def path_of(url: str) -> str:
    return urlsplit(url).path


def walk_in(server, department: str, person: str = "027185004321") -> dict:
    return kiosk_cli(server.config, "checkin", "--id", person, "--department", department, "--json")["ticket"]


def call_until(server, room: str, label: str, limit: int = 20) -> None:
    """kiosk call-next in ``room`` until ``label`` is the one called."""
    for _ in range(limit):
        if kiosk_cli(server.config, "call-next", "--room", room)["called"] == label:
            return
    raise AssertionError(f"{label} was never called in {room}")


def test_board_shows_a_new_checkin_within_one_poll(server, browser):
    browser.size(1920, 1080)
    browser.open(server.url + "/board/NGOAI")
    wait_for(lambda: int(browser.js("return document.body.dataset.poll") or 0) > 0)
    ticket = walk_in(server, "NGOAI")
    polls_at_checkin = server.feed("department:NGOAI")["polls"]
    label = ticket["label"]
    wait_for(lambda: label in browser.js("return document.querySelector('section[data-room=P201] .next').textContent"))
    # the first poll that starts after the check-in is at most the second one from now
    assert int(browser.js("return document.body.dataset.poll")) <= polls_at_checkin + 2
    assert "1 người đang chờ" in browser.text() or "người đang chờ" in browser.text()
    assert browser.js("return document.documentElement.scrollHeight <= window.innerHeight")  # no scrolling


def test_phone_page_shows_your_turn_after_call_next(server, browser):
    ticket = walk_in(server, "NGOAI")
    assert ticket["follow_url"].startswith(server.url + "/t/")
    browser.size(360, 740, phone=True)
    browser.open(server.url + path_of(ticket["follow_url"]))
    wait_for(lambda: browser.js("return document.body.dataset.state") == "waiting")
    wait_for(lambda: "Trước bạn còn" in browser.text() or "Bạn là người tiếp theo" in browser.text())
    text = browser.text()
    assert ticket["label"] in text and "Phòng khám Ngoại" in text and "Tầng 2, Nhà A" in text
    assert browser.js("return document.documentElement.scrollWidth") <= 360  # fits a 360 px phone

    call_until(server, "P201", ticket["label"])
    wait_for(lambda: browser.js("return document.body.dataset.state") == "called")
    text = browser.text()
    assert "ĐẾN LƯỢT BẠN!" in text and "Mời bạn vào Phòng khám Ngoại ngay" in text
    assert browser.js("return window.__phone.alerts") == 1  # vibration + chime fired once
    assert not browser.js("return document.getElementById('turn').hidden")

    browser.driver.find_element("css selector", "a.lang").click()  # English, one tap away
    wait_for(lambda: "IT'S YOUR TURN!" in browser.text())
    assert "Please go to Phòng khám Ngoại now" in browser.text()


def _read_events(url: str, seconds: float, sink: list[str]) -> None:
    try:
        with requests.get(url, stream=True, timeout=(5, seconds)) as r:
            for line in r.iter_lines(decode_unicode=True):
                sink.append(line)
    except requests.exceptions.RequestException:
        pass  # the read timeout ends the stream


def test_calls_play_in_order_without_cutting_off_and_are_synthesised_once(server, browser):
    browser.size(1280, 720)
    browser.open(server.url + "/board/NOI")
    wait_for(lambda: int(browser.js("return document.body.dataset.poll") or 0) > 0)
    other_screen: list[str] = []  # a second screen of the same department, reading the stream
    reader = threading.Thread(target=_read_events, args=(server.url + "/board-events/NOI", 25, other_screen))
    reader.start()
    a = walk_in(server, "NOI")
    b = walk_in(server, "NOI")
    before = server.status()["calls_synthesised"]
    call_until(server, a["room"], a["label"])
    call_until(server, b["room"], b["label"])
    played = wait_for(lambda: browser.js("return window.__board.played.length >= 2 && window.__board.played"),
                      timeout=40)
    first, second = played[-2], played[-1]
    assert [first["label"], second["label"]] == [a["label"], b["label"]]
    assert second["started"] >= first["ended"]  # queued, never cut off
    assert first["sound"] and second["sound"]  # the WAV played to its end in the browser
    assert server.status()["calls_synthesised"] - before == 2  # once per call, not per screen
    reader.join(30)
    calls = [json.loads(line[5:]) for line in other_screen if line.startswith("data:") and '"audio"' in line]
    assert [c["label"] for c in calls][-2:] == [a["label"], b["label"]]
    wav = server.get(calls[-1]["audio"])
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(wav.content)) as w:  # chime + (1 + board.repeat) sayings, playable
        assert w.getnframes() / w.getframerate() > 1.0
    assert "Mời số" in browser.js("return document.getElementById('ticker').textContent")


def _personal_strings() -> list[str]:
    found = []
    for p in demo_people():
        name = p["full_name"]
        dob = p["birth_date"]
        y, m, d = dob.split("-")
        found += [name, name.title(), mask_name(name), p["citizen_id"], p["citizen_id"][-9:],
                  mask_citizen_id(p["citizen_id"]), dob, f"{d}/{m}/{y}", f"{d}{m}{y}"]
        if p.get("old_id"):
            found.append(p["old_id"])
    return found


def test_no_personal_data_in_pages_streams_or_logs(server, browser):
    tickets = []
    for p in demo_people():
        args = ["checkin", "--id", p["citizen_id"], "--name", p["full_name"], "--dob", p["birth_date"],
                "--sex", p["sex"], "--department", "NHI", "--json"]
        tickets.append(kiosk_cli(server.config, *args)["ticket"])
    call_until(server, tickets[0]["room"], tickets[0]["label"])
    secret_strings = _personal_strings()
    tokens = [path_of(t["follow_url"]).rsplit("/", 1)[1] for t in tickets]
    seen: list[str] = []
    browser.size(1920, 1080)
    for department in sorted({t["department"] for t in tickets}):
        browser.open(server.url + f"/board/{department}")
        wait_for(lambda: int(browser.js("return document.body.dataset.poll") or 0) > 0)
        seen += [browser.html(), browser.text()]
    browser.size(360, 740, phone=True)
    for t in tickets:
        for lang in ("vi", "en"):
            browser.open(server.url + path_of(t["follow_url"]) + f"?lang={lang}")
            wait_for(lambda: browser.js("return window.__phone && window.__phone.updates >= 1"))
            seen += [browser.html(), browser.text()]
        assert t["label"] in browser.text()
    stream: list[str] = []
    _read_events(server.url + path_of(tickets[0]["follow_url"]) + "/events", 3, stream)
    _read_events(server.url + f"/board-events/{tickets[0]['department']}", 3, stream)
    assert any("data:" in line for line in stream)
    seen.append("\n".join(stream))
    everything = "\n".join(seen)
    leaks = [s for s in secret_strings if s.casefold() in everything.casefold()]
    assert leaks == []
    log = server.log_text()
    assert "/t/…" in log  # the phone pages were logged…
    assert [s for s in secret_strings + tokens if s in log] == []  # …without tokens or personal data
