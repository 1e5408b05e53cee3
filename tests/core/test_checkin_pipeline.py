"""The check-in pipeline (kiosk/checkin/pipeline.py) with fake stages: its
composition, the one executor, a late online result reaching the hook after
the patient got the offline ticket, and close() with an attempt in flight."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import date, datetime, timezone

import pytest

from kiosk.board.follow import FollowLinks, FollowLinkStage, FollowTokens
from kiosk.checkin.insured import COVERAGE_WRITE, InsuranceSide
from kiosk.checkin.offline_first import OutboxCheckIn
from kiosk.checkin.pipeline import ONLINE_ATTEMPT, CheckInPipeline, PipelineClosed
from kiosk.checkin.visit_rules import make_ticket
from kiosk.clock import SystemClock
from kiosk.domain import Assurance, CheckInResult, ClinicRoom, Department, Identity, IdentitySource, VisitCoverage
from kiosk.errors import HisUnavailable
from kiosk.insurance.card_check import CoverageStatus, InsuranceCheck
from kiosk.ports import MODE_OFFLINE, MODE_ONLINE, CheckInHandler
from tests.helpers import make_config, request_for

ROOM = ClinicRoom("P101", "Phòng khám Nội 1", "Tầng 1, Nhà A")
NOI = Department("NOI", "Nội khoa", (ROOM,))
SECRET = b"s" * 32
WAIT_S = 10.0  # every wait in these tests is bounded


def ident(i: int = 1) -> Identity:
    return Identity(citizen_id=f"0790990{i:05d}", source=IdentitySource.CCCD_QR, assurance=Assurance.QR,
                    full_name="NGUYỄN VĂN AN", sex="male")


class Online:
    """The online check-in; ``hold`` blocks each attempt until released (bounded)."""

    def __init__(self, *, hold: bool = False, error: Exception | None = None):
        self.release = threading.Event()
        self.started = threading.Event()
        self.hold, self.error = hold, error
        self.threads: list[str] = []
        self.finished = 0

    def check_in(self, request):
        self.threads.append(threading.current_thread().name)
        self.started.set()
        if self.hold:
            assert self.release.wait(WAIT_S)
        self.finished += 1
        if self.error is not None:
            raise self.error
        ticket = make_ticket(reference=request.checkin_id, number=7, label="007", department=NOI, room=ROOM,
                             issued_at=datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc), booked=False, priority=None,
                             full_name=request.identity.full_name, hospital_name="BV")
        return CheckInResult(ticket, "online", "p1", "e1", None)


class Store:
    def __init__(self):
        self.queued = []

    def enqueue_offline(self, request, day, make, *, online_attempted):
        self.queued.append((request.checkin_id, online_attempted))
        return make(len(self.queued))

    def backlog(self):
        return len(self.queued)

    def ticket_today(self, citizen_id, day, department_code, *, other_than=""):
        return None


class FixedReferenceData:
    def departments(self):
        return [NOI]


class Monitor:
    def __init__(self, mode=MODE_ONLINE):
        self.current, self.reasons = mode, []

    def mode(self):
        return self.current

    def subscribe(self, callback):
        callback(self.current)

    def report_unavailable(self, reason):
        self.current = MODE_OFFLINE
        self.reasons.append(reason)

    def report_ok(self, reason=""):
        self.current = MODE_ONLINE


class His:
    def __init__(self):
        self.recorded, self.threads = [], []

    def record_coverage(self, encounter_id, patient_id, check, *, bill):
        self.threads.append(threading.current_thread().name)
        self.recorded.append((encounter_id, bill))
        return "c1"


class Queue:
    def __init__(self):
        self.entries = []

    def enqueue(self, checkin_id, coverage, reason):
        self.entries.append((checkin_id, reason))
        return True

    def kick(self):
        pass


def outbox_stage(store=None, monitor=None, deadline_s=0.3):
    config = make_config(kiosk={"id": "KIOSK-01"}, offline={"go_offline_after_s": deadline_s})
    return OutboxCheckIn(store or Store(), FixedReferenceData(), monitor or Monitor(), SystemClock(config.kiosk.timezone),
                         config)


def valid() -> InsuranceCheck:
    return InsuranceCheck(status=CoverageStatus.VALID, result_code="000", message_key="coverage.valid",
                          staff_reason="card valid", checked_at=datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc),
                          about_card=True, card_number="GD4990000000000", valid_from=date(2026, 1, 1),
                          valid_to=date(2026, 12, 31))


def wait_until(predicate, timeout=WAIT_S):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not predicate():
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def closing():
    made = []
    yield made.append
    for pipeline in made:
        pipeline.close(timeout_s=1.0)


# --- composition --------------------------------------------------------------------------

def test_online_only_pipeline_calls_the_service_on_the_callers_thread(closing):
    online = Online()
    pipeline = CheckInPipeline(online)
    closing(pipeline)
    assert isinstance(pipeline, CheckInHandler) and pipeline.stages == ("online",)
    result = pipeline.check_in(request_for(ident(), "NOI"))
    assert result.mode == "online" and result.ticket.insurance_status is None and not result.ticket.follow_url
    assert online.threads == [threading.current_thread().name]
    with pytest.raises(HisUnavailable):  # no offline stage: the error is the answer
        CheckInPipeline(Online(error=HisUnavailable("down"))).check_in(request_for(ident(), "NOI"))


@pytest.mark.parametrize("offline", [False, True])
@pytest.mark.parametrize("insured", [False, True])
@pytest.mark.parametrize("follow", [False, True])
def test_each_optional_stage_present_or_absent(closing, offline, insured, follow):
    online, his, queue, tokens = Online(), His(), Queue(), FollowTokens(SECRET)
    pipeline = CheckInPipeline(
        online, offline=outbox_stage() if offline else None,
        insurance=InsuranceSide(his, queue, deadline_s=WAIT_S) if insured else None,
        follow=FollowLinkStage(FollowLinks("https://q.example.vn", tokens), "Asia/Ho_Chi_Minh") if follow else None)
    closing(pipeline)
    assert pipeline.stages == tuple(name for name, there in (("online", True), ("offline", offline),
                                                              ("insurance", insured), ("follow", follow)) if there)
    request = request_for(ident(), "NOI", coverage=VisitCoverage(valid(), "GD4990000000000", "NGUYỄN VĂN AN",
                                                                 date(1980, 1, 1)))
    result = pipeline.check_in(request)
    assert result.mode == "online"
    assert online.threads[0].startswith("checkin") == offline  # the online attempt on the executor
    assert (result.ticket.insurance_status is not None) == insured
    assert his.recorded == ([("e1", True)] if insured else [])
    if insured:
        assert his.threads[0].startswith("checkin")  # the Coverage write: same executor
    url = result.ticket.follow_url
    assert bool(url) == follow
    if follow:
        assert tokens.check(url.rsplit("/", 1)[1], date(2026, 3, 2)) == request.checkin_id
    assert pipeline.in_flight() == []


def test_no_attribute_forwarding_anywhere():
    from kiosk.board import follow
    from kiosk.checkin import insured, offline_first, pipeline
    for module in (pipeline, offline_first, insured, follow):
        assert "__getattr__" not in open(module.__file__, encoding="utf-8").read()


# --- the deadline and a late online result --------------------------------------------------

def test_a_late_online_result_reaches_the_hook_after_the_patient_has_the_offline_ticket(closing, caplog):
    online, store, monitor = Online(hold=True), Store(), Monitor()
    heard = []
    pipeline = CheckInPipeline(online, offline=outbox_stage(store, monitor),
                               late_listener=lambda request, outcome: heard.append((request.checkin_id, outcome)))
    closing(pipeline)
    request = request_for(ident(), "NOI")
    caplog.set_level(logging.INFO)
    started = time.monotonic()
    result = pipeline.check_in(request)
    assert time.monotonic() - started < 2.0  # the patient waited for the deadline only
    assert result.mode == "offline" and result.ticket.offline and result.ticket.label == "K1-001"
    assert store.queued == [(request.checkin_id, True)] and monitor.current == MODE_OFFLINE
    assert "go_offline_after_s" in monitor.reasons[0]
    # The attempt was not abandoned: it is still running on the executor.
    assert pipeline.in_flight() == [ONLINE_ATTEMPT] and heard == []
    online.release.set()
    assert wait_until(lambda: heard)
    (cid, outcome), = heard
    assert cid == request.checkin_id and isinstance(outcome, CheckInResult) and outcome.encounter_id == "e1"
    late = [r for r in caplog.records if getattr(r, "event", "") == "checkin.late_online"]
    assert len(late) == 1 and late[0].reached_his is True and late[0].error == ""
    assert "NGUYỄN" not in caplog.text and request.identity.citizen_id not in caplog.text
    assert wait_until(lambda: pipeline.in_flight() == [])
    assert store.queued == [(request.checkin_id, True)]  # the outbox entry stays; nothing queued twice


def test_a_late_error_reaches_the_hook_too(closing):
    online = Online(hold=True, error=HisUnavailable("read timed out"))
    heard = []
    pipeline = CheckInPipeline(online, offline=outbox_stage(), late_listener=lambda r, o: heard.append(o))
    closing(pipeline)
    assert pipeline.check_in(request_for(ident(), "NOI")).mode == "offline"
    online.release.set()
    assert wait_until(lambda: heard) and isinstance(heard[0], HisUnavailable)


def test_a_failing_listener_never_reaches_the_patient(closing, caplog):
    online = Online(hold=True)

    def broken(request, outcome):
        raise RuntimeError("listener bug")

    pipeline = CheckInPipeline(online, offline=outbox_stage(), late_listener=broken)
    closing(pipeline)
    assert pipeline.check_in(request_for(ident(), "NOI")).mode == "offline"
    online.release.set()
    assert wait_until(lambda: any(getattr(r, "event", "") == "checkin.late_online_hook_failed"
                                  for r in caplog.records))


def test_his_unavailable_in_time_queues_at_once_with_no_late_result(closing):
    heard = []
    store = Store()
    pipeline = CheckInPipeline(Online(error=HisUnavailable("503")), offline=outbox_stage(store),
                               late_listener=lambda r, o: heard.append(o))
    closing(pipeline)
    assert pipeline.check_in(request_for(ident(), "NOI")).mode == "offline"
    assert store.queued[0][1] is True and heard == []


def test_offline_mode_makes_no_online_attempt(closing):
    online, store = Online(), Store()
    pipeline = CheckInPipeline(online, offline=outbox_stage(store, Monitor(MODE_OFFLINE)))
    closing(pipeline)
    assert pipeline.check_in(request_for(ident(), "NOI")).mode == "offline"
    assert online.threads == [] and store.queued[0][1] is False


# --- close() ----------------------------------------------------------------------------------

def test_close_waits_a_bounded_time_for_an_attempt_in_flight(caplog):
    online = Online(hold=True)
    heard = []
    pipeline = CheckInPipeline(online, offline=outbox_stage(), late_listener=lambda r, o: heard.append(o))
    assert pipeline.check_in(request_for(ident(), "NOI")).mode == "offline"
    started = time.monotonic()
    assert pipeline.close(timeout_s=0.3) is False  # the attempt still runs: close() does not hang on it
    assert 0.25 <= time.monotonic() - started < 2.0
    assert [r.tasks for r in caplog.records if getattr(r, "event", "") == "checkin.close_left_running"] \
        == [[ONLINE_ATTEMPT]]
    with pytest.raises(PipelineClosed):
        pipeline.submit(COVERAGE_WRITE, lambda: None)
    online.release.set()  # it still finishes its work and is heard
    assert wait_until(lambda: heard) and isinstance(heard[0], CheckInResult)
    assert pipeline.close() is True  # idempotent


def test_close_returns_as_soon_as_the_attempt_in_flight_ends():
    online = Online(hold=True)
    pipeline = CheckInPipeline(online, offline=outbox_stage())
    assert pipeline.check_in(request_for(ident(), "NOI")).mode == "offline"
    threading.Timer(0.2, online.release.set).start()
    started = time.monotonic()
    assert pipeline.close(timeout_s=WAIT_S) is True
    assert time.monotonic() - started < WAIT_S / 2 and online.finished == 1


def test_a_coverage_write_after_close_goes_to_the_recheck_queue():
    his, queue = His(), Queue()
    pipeline = CheckInPipeline(Online(), insurance=InsuranceSide(his, queue, deadline_s=1.0))
    pipeline.close()
    request = request_for(ident(), "NOI", checkin_id=str(uuid.uuid4()),
                          coverage=VisitCoverage(valid(), "GD4990000000000", "NGUYỄN VĂN AN", date(1980, 1, 1)))
    result = pipeline.check_in(request)  # the visit is in the HIS: the patient gets the ticket
    assert result.ticket.insurance_status is not None and his.recorded == []
    assert queue.entries and "PipelineClosed" in queue.entries[0][1]
