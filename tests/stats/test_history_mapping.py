"""What the statistics read from one Encounter or Appointment (fhir_his.history)."""
from __future__ import annotations

from datetime import datetime, timezone

from fhir_his.board import with_call, with_no_show, with_status
from fhir_his.history import _department, started_at, visit_record
from fhir_his.mapping import extensions
from kiosk.config.loader import HisSection

HIS = HisSection()
EXT = extensions(HIS)
SYS = HIS.department_system


def ts(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=timezone.utc)


def enc(**kw) -> dict:
    base = {"resourceType": "Encounter", "id": "e1", "status": "arrived",
            "period": {"start": ts(1).isoformat()},
            "serviceType": {"coding": [{"system": "http://other/system", "code": "X"},
                                       {"system": SYS, "code": "NOI"}]},
            "subject": {"reference": "Patient/p1", "display": "NGUYỄN V** AN"},
            "extension": [{"url": EXT.checkin_channel, "valueCode": "chip"},
                          {"url": EXT.checkin_mode, "valueCode": "offline"},
                          {"url": EXT.queue_priority, "valueCode": "pregnant"}]}
    base.update(kw)
    return base


def test_a_waiting_visit():
    r = visit_record(enc(), EXT, SYS)
    assert (r.department, r.channel, r.mode, r.priority, r.status) == ("NOI", "chip", "offline", "pregnant", "arrived")
    assert r.arrived_at == ts(1) and not r.booked and not r.insured and not r.no_show
    assert (r.called_at, r.started_at, r.finished_at) == (None, None, None)


def test_the_board_s_own_writes_called_started_finished():
    """The very functions the calling board writes with (fhir_his.board)."""
    called = with_call(enc(), ts(1, 20), EXT)
    assert visit_record(called, EXT, SYS).called_at == ts(1, 20)
    recalled = with_call(called, ts(1, 25), EXT, recall=True)
    assert visit_record(recalled, EXT, SYS).called_at == ts(1, 25)  # called-at: the last call
    started = with_status(called, "in-progress", ts(1, 30))
    r = visit_record(started, EXT, SYS)
    assert (r.called_at, r.started_at, r.finished_at, r.status) == (ts(1, 20), ts(1, 30), None, "in-progress")
    finished = with_status(started, "finished", ts(1, 45))
    r = visit_record(finished, EXT, SYS)
    assert (r.started_at, r.finished_at, r.status) == (ts(1, 30), ts(1, 45), "finished")
    skipped = with_no_show(called, ts(1, 40), EXT)
    r = visit_record(skipped, EXT, SYS)
    assert r.no_show and r.started_at is None and r.status == "arrived"


def test_started_by_the_his_screen_without_a_call_counts_the_start_as_the_call():
    started = with_status(enc(), "in-progress", ts(2))
    r = visit_record(started, EXT, SYS)
    assert r.called_at == r.started_at == ts(2)


def test_cancelled_is_not_a_start_and_entered_in_error_is_left_out():
    cancelled = with_status(enc(), "cancelled", ts(2))
    assert started_at(cancelled) is None and visit_record(cancelled, EXT, SYS).status == "cancelled"
    assert visit_record(enc(status="entered-in-error"), EXT, SYS) is None
    assert visit_record(enc(period={}), EXT, SYS) is None
    assert visit_record(enc(period={"start": "2026-03-02T08:00:00"}), EXT, SYS) is None  # no time zone: unusable


def test_booked_insured_and_unknown_channel():
    e = enc(appointment=[{"reference": "Appointment/a1"}],
            extension=[{"url": EXT.coverage, "valueReference": {"reference": "Coverage/c1"}}])
    r = visit_record(e, EXT, SYS)
    assert r.booked and r.insured and r.channel == "unknown" and r.mode == "unknown" and r.priority is None


def test_department_of_an_encounter_and_of_an_appointment():
    assert _department({"coding": [{"system": SYS, "code": "MAT"}]}, SYS) == "MAT"
    assert _department([{"coding": [{"system": "x", "code": "Q"}]}, {"coding": [{"system": SYS, "code": "TIM"}]}],
                       SYS) == "TIM"
    assert _department(None, SYS) == "" and _department([], SYS) == ""


def test_no_personal_data_in_a_record():
    r = visit_record(enc(), EXT, SYS)
    assert "NGUY" not in repr(r) and "p1" not in repr(r)
