"""The board's HIS side against the real sandbox HIS: polling, call-next,
recall, skip, outages. Visits come from the real check-in service."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from fhir_his.board import FhirBoardHis
from fhir_his.client import FhirClient
from fhir_his.mapping import extensions
from kiosk.board.service import NothingToRecall
from kiosk.config.loader import HisSection
from kiosk.errors import HisUnavailable
from tests.board.conftest import Reception, board_config, caller_for, poller_for, request_for_person, rooms_of

ROOT = Path(__file__).resolve().parents[2]
EXT = extensions(HisSection())
pytestmark = pytest.mark.integration


def read_encounter(config, eid):
    return FhirClient(config.his).read("Encounter", eid).body


def test_resolve_rooms_by_department_and_by_codes(his_sandbox):
    cfg = board_config(his_sandbox.base_url)
    title, rooms = rooms_of(cfg, department="NOI")
    assert title == "Nội khoa" and [r.code for r in rooms] == ["P101", "P102"]
    assert all(r.location_id for r in rooms)
    title, rooms = rooms_of(cfg, rooms=["P201", "P101"])
    assert [r.code for r in rooms] == ["P201", "P101"] and "Ngoại khoa" in title
    with pytest.raises(Exception, match="board.rooms: 'P999'"):
        rooms_of(cfg, rooms=["P999"])


def test_checkin_appears_and_call_next_follows_the_priority_rule(fresh_sandbox):
    cfg = board_config(fresh_sandbox.base_url, priority_interleave=2)
    _, rooms = rooms_of(cfg, department="NGOAI")  # one room: every walk-in lands in P201
    poller = poller_for(cfg, rooms)
    poller.poll_once()
    desk = Reception(cfg)
    normal = [desk.walk_in("NGOAI").ticket.label for _ in range(3)]
    child = desk.walk_in("NGOAI", person_key="linh").ticket  # under 6: priority by date of birth
    assert child.priority is not None
    snap, calls = poller.poll_once()
    room = snap.room("P201")
    assert [w.label for w in room.waiting] == [child.label, *normal]
    assert calls == [] and room.serving is None

    caller = caller_for(cfg, rooms)
    first = caller.call_next("P201")
    assert first.label == child.label and first.waiting_after == 3
    snap, calls = poller.poll_once()
    assert [c.label for c in calls] == [child.label]
    assert snap.room("P201").serving.label == child.label
    enc = read_encounter(cfg, first.visit_id)
    assert enc["status"] == "arrived" and "statusHistory" not in enc  # called, not yet with the doctor
    caller.start("P201")
    enc = read_encounter(cfg, first.visit_id)
    assert enc["status"] == "in-progress" and enc["statusHistory"][0]["status"] == "arrived"

    # interleave 2: two normal visits before the next priority one
    desk.walk_in("NGOAI", person_key="linh")
    labels = []
    for _ in range(3):
        labels.append(caller.call_next("P201").label)
        caller.start("P201")
    assert labels[:2] == normal[:2]
    assert labels[2] != normal[2]  # the second child comes before the third adult
    assert read_encounter(cfg, first.visit_id)["status"] == "finished"  # the visit seen before is finished


def test_two_desks_calling_at_once_call_two_different_patients(fresh_sandbox):
    cfg = board_config(fresh_sandbox.base_url)
    _, rooms = rooms_of(cfg, department="NGOAI")
    desk = Reception(cfg)
    for _ in range(4):
        desk.walk_in("NGOAI")
    callers = [caller_for(cfg, rooms) for _ in range(2)]
    results, start = [], threading.Barrier(2)

    def press(caller):
        start.wait(5)
        results.append(caller.call_next("P201", finish_previous=False))

    threads = [threading.Thread(target=press, args=(c,)) for c in callers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len({r.label for r in results}) == 2
    poller = poller_for(cfg, rooms)
    snap, _ = poller.poll_once()
    assert snap.room("P201").waiting_total == 2


def test_recall_and_skip(fresh_sandbox):
    cfg = board_config(fresh_sandbox.base_url)
    _, rooms = rooms_of(cfg, department="NGOAI")
    caller = caller_for(cfg, rooms)
    with pytest.raises(NothingToRecall):
        caller.recall("P201")
    desk = Reception(cfg)
    labels = [desk.walk_in("NGOAI").ticket.label for _ in range(2)]
    poller = poller_for(cfg, rooms)
    called = caller.call_next("P201")
    poller.poll_once()
    again = caller.recall("P201")
    assert again.label == called.label == labels[0]
    _, calls = poller.poll_once()
    assert [(c.label, c.call_count) for c in calls] == [(labels[0], 2)]

    skipped = caller.skip("P201")
    assert skipped.previous_label == labels[0] and skipped.label == labels[1]
    assert skipped.previous_status == "noshow"
    enc = read_encounter(cfg, called.visit_id)
    assert enc["status"] == "arrived"  # not cancelled: it never began; out of the queue by its no-show mark
    assert any(e["url"] == EXT.no_show for e in enc["extension"])
    snap, calls = poller.poll_once()
    assert [c.label for c in calls] == [labels[1]]
    room = snap.room("P201")
    assert room.serving.label == labels[1] and room.recent[0].no_show


def test_appointments_close_as_fulfilled_or_noshow(fresh_sandbox):
    """A booked patient seen → Appointment fulfilled; a booked patient who did not come → noshow."""
    from kiosk.board.service import AlreadyWithTheDoctor

    cfg = board_config(fresh_sandbox.base_url)
    _, rooms = rooms_of(cfg, rooms=["P101", "P203"])
    caller = caller_for(cfg, rooms)
    desk = Reception(cfg)
    an = desk.service.check_in(request_for_person("an"))  # booked in Nội khoa, room P101
    hung = desk.service.check_in(request_for_person("hung"))  # booked in Tim mạch, room P203
    assert an.ticket.booked and hung.ticket.booked
    caller.call_next("P101")
    caller.skip("P101", then_call_next=False)
    caller.call_next("P203")
    caller.start("P203")
    with pytest.raises(AlreadyWithTheDoctor):
        caller.skip("P203")
    caller.call_next("P203")  # the visit being seen is finished
    client = FhirClient(cfg.his)
    assert client.read("Appointment", an.appointment_id).body["status"] == "noshow"
    assert client.read("Appointment", hung.appointment_id).body["status"] == "fulfilled"
    assert client.read("Encounter", hung.encounter_id).body["status"] == "finished"


def test_outage_keeps_the_last_state_and_recovers(fresh_sandbox):
    cfg = board_config(fresh_sandbox.base_url, full_refresh_s=3600)
    _, rooms = rooms_of(cfg, department="NGOAI")
    desk = Reception(cfg)
    label = desk.walk_in("NGOAI").ticket.label
    poller = poller_for(cfg, rooms)
    good, _ = poller.poll_once()
    assert [w.label for w in good.room("P201").waiting] == [label]

    fresh_sandbox.set_faults(fail_status=503, fail_count=10_000)
    stale, calls = poller.poll_once()
    assert stale.stale and calls == []
    assert stale.updated_at == good.updated_at
    assert stale.rooms == good.rooms  # last known state kept
    assert "503" in stale.problem

    fresh_sandbox.set_faults(fail_status=0, fail_count=0)
    second = desk.walk_in("NGOAI").ticket.label
    back, _ = poller.poll_once()
    assert not back.stale and back.updated_at > good.updated_at
    assert [w.label for w in back.room("P201").waiting] == [label, second]


def test_polling_asks_only_for_changes(fresh_sandbox):
    cfg = board_config(fresh_sandbox.base_url, full_refresh_s=3600)
    _, rooms = rooms_of(cfg, rooms=["P201"])
    Reception(cfg).walk_in("NGOAI")
    client = FhirClient(cfg.his)
    seen: list = []
    real_search = client.search

    def recording_search(resource_type, params):
        found, inc = real_search(resource_type, params)
        seen.append((dict(params), len(found)))
        return found, inc

    client.search = recording_search
    poller = poller_for(cfg, rooms, his=FhirBoardHis(cfg, client))
    before = client.request_count
    for _ in range(5):
        poller.poll_once()
    assert client.request_count - before == 5  # one request per poll for all rooms
    assert "date" in seen[0][0] and "_lastUpdated" not in seen[0][0]
    assert all("_lastUpdated" in p and p["_lastUpdated"].startswith("ge") for p, _ in seen[1:])
    assert all(n <= 1 for _, n in seen[1:])  # only the recently changed visit comes back


def test_poller_thread_announces_new_calls(fresh_sandbox, tmp_path):
    from devices.voice import SimulatedAnnouncer

    cfg = board_config(fresh_sandbox.base_url, tmp_path)
    _, rooms = rooms_of(cfg, rooms=["P201"])
    desk = Reception(cfg)
    label = desk.walk_in("NGOAI").ticket.label
    announcer = SimulatedAnnouncer(repeat=1, seconds_per_saying=0.01)
    updates = threading.Event()
    poller = poller_for(cfg, rooms, announcer=announcer, on_update=lambda s, c: updates.set())
    poller.start()
    try:
        assert updates.wait(10)
        caller_for(cfg, rooms).call_next("P201")
        poller.refresh_now()
        deadline = threading.Event()
        for _ in range(100):
            if announcer.history:
                break
            deadline.wait(0.05)
        assert [c.announcement.text for c in announcer.history] == [f"Mời số {label} vào phòng khám Ngoại"]
        assert announcer.history[0].times == 2
    finally:
        poller.stop()
        announcer.stop()


def test_cli_call_next_recall_skip(fresh_sandbox, tmp_path):
    cfg_file = tmp_path / "kiosk.toml"
    cfg_file.write_text(f'[his]\nbase_url = "{fresh_sandbox.base_url}"\n', encoding="utf-8")
    cfg = board_config(fresh_sandbox.base_url)
    desk = Reception(cfg)
    labels = [desk.walk_in("NGOAI").ticket.label for _ in range(2)]

    def kiosk(*args):
        out = subprocess.run([sys.executable, "-m", "app", *args, "--config", str(cfg_file)],
                             capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    assert kiosk("call-next", "--room", "P201")["called"] == labels[0]
    assert kiosk("recall", "--room", "P201")["called"] == labels[0]
    out = kiosk("skip", "--room", "P201")
    assert (out["previous"], out["previous_status"], out["called"]) == (labels[0], "noshow", labels[1])
    assert kiosk("start", "--room", "P201")["called"] == labels[1]
    out = kiosk("call-next", "--room", "P201")
    assert out["called"] is None and out["previous"] == labels[1] and out["previous_status"] == "finished"
    bad = subprocess.run([sys.executable, "-m", "app", "recall", "--room", "P999", "--config", str(cfg_file)],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert bad.returncode == 1 and "P999" in bad.stderr


def test_unreachable_his_is_a_typed_error():
    cfg = board_config("http://127.0.0.1:9/fhir/R4")
    with pytest.raises(HisUnavailable):
        rooms_of(cfg, department="NOI")


def test_a_hanging_his_marks_the_board_stale_after_one_short_poll(fresh_sandbox):
    """No retries inside a poll and a short read timeout: one slow poll is
    enough to show the banner; the board keeps polling (the retry)."""
    from fhir_his.board import POLL_READ_TIMEOUT_S

    cfg = board_config(fresh_sandbox.base_url, full_refresh_s=3600)
    _, rooms = rooms_of(cfg, rooms=["P201"])
    poller = poller_for(cfg, rooms)
    assert poller.his.client.his.retries == 0 and poller.his.client.his.read_timeout_s == POLL_READ_TIMEOUT_S
    poller.poll_once()
    fresh_sandbox.set_faults(delay_ms=int(POLL_READ_TIMEOUT_S * 1000) + 2500)
    before = poller.his.client.request_count
    snap, _ = poller.poll_once()
    assert snap.stale and "Timeout" in snap.problem
    assert poller.his.client.request_count - before == 1
    fresh_sandbox.set_faults()
    snap, _ = poller.poll_once()
    assert not snap.stale
