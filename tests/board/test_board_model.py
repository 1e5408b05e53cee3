"""The Qt-free board model (kiosk.board.model) fed by the FHIR mapping
(fhir_his.board): Encounters → what the board shows, and which changes are
new calls to announce."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

from fhir_his import board as fb
from fhir_his.mapping import extensions
from kiosk.board.model import BoardModel
from kiosk.config.loader import HisSection
from kiosk.domain import ClinicRoom, Priority

EXT = extensions(HisSection())


def with_call(enc, now, *, recall=False):
    return fb.with_call(enc, now, EXT, recall=recall)


def with_status(enc, status, now):
    return fb.with_status(enc, status, now)


def visits_of(encounters, rooms):
    return fb.visits_of(encounters, rooms, EXT)

VN = timezone(timedelta(hours=7))
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=VN)
ROOMS = [ClinicRoom("P101", "Phòng khám Nội 1", location_id="loc-1"),
         ClinicRoom("P102", "Phòng khám Nội 2", location_id="loc-2")]


def encounter(eid, number, minute, *, loc="loc-1", status="arrived", version="1", priority=None, booked=None,
              name="NGUYỄN V** AN", updated_min=None):
    ext = [{"url": EXT.queue_number, "valueInteger": number},
           {"url": EXT.queue_label, "valueString": f"{number:03d}"}]
    if priority:
        ext.append({"url": EXT.queue_priority, "valueCode": priority.value})
    if booked is not None:
        ext.append({"url": EXT.appointment_start, "valueDateTime": (T0 + timedelta(minutes=booked)).isoformat()})
    upd = T0 + timedelta(minutes=updated_min if updated_min is not None else minute)
    return {"resourceType": "Encounter", "id": eid, "status": status, "extension": ext,
            "meta": {"versionId": version, "lastUpdated": upd.astimezone(timezone.utc).isoformat()},
            "subject": {"reference": "Patient/x", "display": name},
            "period": {"start": (T0 + timedelta(minutes=minute)).isoformat()},
            "location": [{"location": {"reference": f"Location/{loc}"}, "status": "planned"}]}


class Model(BoardModel):
    """The board model fed with Encounters, as the poller feeds it through the adapter."""

    def replace_all(self, encounters, day, now=None):
        return super().replace_all(visits_of(encounters, ROOMS), day, now)

    def merge(self, encounters, now=None):
        return super().merge(visits_of(encounters, ROOMS), now)


def model(**kw):
    kw.setdefault("interleave", 2)
    return Model(ROOMS, **kw)


def test_waiting_visits_in_queue_order_per_room():
    m = model()
    m.replace_all([encounter("a", 1, 1), encounter("b", 2, 2, loc="loc-2"), encounter("c", 3, 3),
                   encounter("d", 4, 4, priority=Priority.ELDERLY_75), encounter("x", 9, 1, loc="elsewhere")],
                  T0.date())
    snap = m.snapshot(T0)
    p101, p102 = snap.room("P101"), snap.room("P102")
    assert [w.label for w in p101.waiting] == ["004", "001", "003"]  # priority due at start of day
    assert p101.waiting[0].priority is Priority.ELDERLY_75
    assert [w.label for w in p102.waiting] == ["002"]
    assert p101.serving is None and p101.waiting_total == 3
    assert "x" not in m.visits


def test_first_read_does_not_announce_then_new_calls_do():
    m = model()
    called = with_call(encounter("a", 1, 1), T0 + timedelta(minutes=5))
    assert m.replace_all([called, encounter("b", 2, 2)], T0.date()) == []  # board just started
    assert m.snapshot(T0).room("P101").serving.label == "001"
    b = with_call(encounter("b", 2, 2, version="2"), T0 + timedelta(minutes=9))
    calls = m.merge([b])
    assert [(c.label, c.room_code, c.room_name) for c in calls] == [("002", "P101", "Phòng khám Nội 1")]
    # the same version seen again (ge-margin polling) is not a new call
    assert m.merge([b]) == []
    snap = m.snapshot(T0)
    assert snap.room("P101").serving.label == "002"
    assert [r.label for r in snap.room("P101").recent] == ["001"]


def test_recall_is_a_new_call_of_the_same_number():
    m = model()
    a = with_call(encounter("a", 1, 1), T0)
    m.replace_all([a], T0.date())
    again = with_call({**a, "meta": {"versionId": "3", "lastUpdated": a["meta"]["lastUpdated"]}},
                      T0 + timedelta(minutes=1), recall=True)
    calls = m.merge([again])
    assert [(c.label, c.call_count) for c in calls] == [("001", 2)]
    assert again["status"] == "arrived"  # a call is recorded; the visit starts only when the room starts it


def test_call_made_on_the_his_own_screen_is_detected():
    """A HIS that only sets in-progress (no kiosk extensions) still triggers a call."""
    m = model()
    m.replace_all([encounter("a", 1, 1)], T0.date())
    enc = encounter("a", 1, 1, status="in-progress", version="2", updated_min=20)
    calls = m.merge([enc])
    assert [c.label for c in calls] == ["001"]
    assert m.visits["a"].called_at == T0 + timedelta(minutes=20)


def test_names_hidden_by_config_and_masked_otherwise():
    encs = [with_call(encounter("a", 1, 1, name="TRẦN T** NGỌC"), T0), encounter("b", 2, 2, name="LÊ V** HÙNG")]
    shown = model()
    shown.replace_all(encs, T0.date())
    room = shown.snapshot(T0).room("P101")
    assert room.serving.masked_name == "TRẦN T** NGỌC" and room.waiting[0].masked_name == "LÊ V** HÙNG"
    hidden = model(show_names=False)
    hidden.replace_all(encs, T0.date())
    room = hidden.snapshot(T0).room("P101")
    assert room.serving.masked_name == "" and room.waiting[0].masked_name == ""
    assert "NGỌC" not in repr(room)


def test_visit_moved_to_another_room_or_another_day_leaves_the_board():
    m = model()
    m.replace_all([encounter("a", 1, 1), encounter("b", 2, 2)], T0.date())
    m.merge([encounter("a", 1, 1, loc="elsewhere", version="2")])
    yesterday = encounter("b", 2, 2, version="2")
    yesterday["period"]["start"] = (T0 - timedelta(days=1)).isoformat()
    m.merge([yesterday])
    assert m.snapshot(T0).room("P101").waiting_total == 0


def test_interleave_credit_comes_from_the_rooms_call_history():
    m = model(interleave=2)
    encs = [with_call(encounter("p", 1, 1, priority=Priority.PREGNANT), T0 + timedelta(minutes=10)),
            with_call(encounter("n1", 2, 2), T0 + timedelta(minutes=11)),
            encounter("n2", 3, 3), encounter("n3", 4, 4), encounter("p2", 5, 5, priority=Priority.DISABILITY)]
    m.replace_all(encs, T0.date())
    # one normal called since the last priority: one more normal, then the priority
    assert [w.label for w in m.waiting_order("P101")] == ["003", "005", "004"]


def test_a_called_patient_stays_arrived_until_the_room_starts_the_visit():
    """R4: arrived = present, not yet with a practitioner; in-progress = with the practitioner."""
    now = T0 + timedelta(minutes=30)
    called = with_call(encounter("a", 1, 1), now)
    assert called["status"] == "arrived" and "statusHistory" not in called
    assert called["location"][0]["status"] == "planned"
    exts = {e["url"]: e for e in called["extension"]}
    assert exts[EXT.called_at]["valueDateTime"] == now.isoformat() and exts[EXT.call_count]["valueInteger"] == 1
    v = fb.visit_from_encounter(called, {"loc-1": "P101"}, EXT)
    assert v.called_now and not v.waiting
    started = with_status(called, "in-progress", now + timedelta(minutes=2))
    assert started["statusHistory"] == [{"status": "arrived", "period": {
        "start": (T0 + timedelta(minutes=1)).isoformat(), "end": (now + timedelta(minutes=2)).isoformat()}}]
    assert started["location"][0]["status"] == "active"
    done = with_status(started, "finished", now + timedelta(minutes=9))
    assert done["period"]["end"] == (now + timedelta(minutes=9)).isoformat()
    assert done["location"][0]["status"] == "completed"
    assert [h["status"] for h in done["statusHistory"]] == ["arrived", "in-progress"]
    m = model()
    m.replace_all([started, encounter("b", 2, 2)], T0.date())
    room = m.snapshot(now).room("P101")
    assert room.serving.label == "001" and [w.label for w in room.waiting] == ["002"]


def test_a_no_show_leaves_the_queue_without_being_cancelled():
    now = T0 + timedelta(minutes=30)
    skipped = fb.with_no_show(with_call(encounter("a", 1, 1), now), now + timedelta(minutes=3), EXT)
    assert skipped["status"] == "arrived"  # not "cancelled": that would mean the visit ended before it began
    assert any(e["url"] == EXT.no_show for e in skipped["extension"])
    v = fb.visit_from_encounter(skipped, {"loc-1": "P101"}, EXT)
    assert v.no_show and v.was_called and not v.waiting and not v.called_now
    m = model()
    m.replace_all([skipped, encounter("b", 2, 2)], T0.date())
    snap = m.snapshot(T0).room("P101")
    assert snap.serving is None and snap.recent[0].no_show and [w.label for w in snap.waiting] == ["002"]


def test_core_modules_stay_qt_free():
    code = ("import sys, kiosk.board.model, kiosk.board.service, fhir_his.board, kiosk.board.queue_order, app.cli.board;"
            "bad=[m for m in ('PySide6','smartcard','cv2','escpos') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_calls_older_than_ten_minutes_are_shown_but_not_announced():
    """After an outage the full re-read finds calls made meanwhile: they are
    shown, only the recent ones are spoken."""
    m = model()
    m.replace_all([encounter("a", 1, 1), encounter("b", 2, 2)], T0.date(), T0)
    now = T0 + timedelta(minutes=50)
    old = with_call(encounter("a", 1, 1, version="2"), now - timedelta(minutes=25))
    recent = with_call(encounter("b", 2, 2, version="2", loc="loc-2"), now - timedelta(seconds=30))
    calls = m.replace_all([old, recent], T0.date(), now)
    assert [c.label for c in calls] == ["002"]
    snap = m.snapshot(now)
    assert snap.room("P101").serving.label == "001" and snap.room("P102").serving.label == "002"
