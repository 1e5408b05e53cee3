"""The check-in pipeline: one explicit object from a request to a ticket.

``CheckInPipeline`` is built by the composition root (``app/compose.py``)
from named stages; every stage but the first is optional:

1. ``online`` — the online check-in against the HIS
   (``kiosk.checkin.online.CheckInService``);
2. ``offline`` — the outbox and the deadline ``offline.go_offline_after_s``
   (``kiosk.checkin.offline_first.OutboxCheckIn``): the online attempt runs on
   the pipeline's executor; no answer in time, or ``HisUnavailable``, and the
   check-in is queued locally and the patient gets an offline ticket. Without
   it the online check-in runs on the caller's thread and its errors propagate
   (no local database);
3. ``insurance`` — the BHYT side (``kiosk.checkin.insured.InsuranceSide``):
   the ticket's BHYT line, the Coverage write, the recheck queue;
4. ``follow`` — the phone link on the ticket
   (``kiosk.board.follow.FollowLinkStage``).

Threads: ONE executor, owned by the pipeline, runs two plainly named tasks —
"online-attempt" (the online check-in, under the offline stage's deadline)
and "coverage-write" (the BHYT Coverage after an online visit, under the same
deadline). They share it because they are the same kind of work (a bounded
wait on the HIS that may outlive the patient's deadline) with one owner and
one close(); a Coverage write only follows an online attempt that answered.

An online attempt that outlives the deadline is not abandoned: the patient
gets the offline ticket at once and the attempt goes on. When it ends, its
result (or error) is handed to ``on_late_result(request, outcome)`` — after
the offline ticket was written — which records what happened (log event
``checkin.late_online``, no personal data) and tells ``late_listener`` (the
outbox sender: the entry is its source of truth and it is delivered exactly
once — the late visit and the sender's write are the same conditional create
keyed by the check-in id, and an entry marked ``online_attempted`` is first
looked up in the HIS).

Every wait has a timeout; ``close()`` waits at most ``close_wait_s`` for the
tasks in flight, then shuts the executor down.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait as wait_futures
from typing import Callable, Protocol

from kiosk.checkin.insured import InsuranceSide
from kiosk.checkin.offline_first import OutboxCheckIn
from kiosk.domain import CheckInRequest, CheckInResult, is_valid_citizen_id
from kiosk.errors import HisUnavailable, InvalidIdentity
from kiosk.operations import metrics
from kiosk.ports import CheckInHandler

log = logging.getLogger(__name__)

ONLINE_ATTEMPT = "online-attempt"  # the online check-in, as a task on the executor
WORKERS = 6  # attempts that outlive the deadline while the HIS is slow, and the Coverage writes
CLOSE_WAIT_S = 5.0  # how long close() waits for tasks in flight

LateOutcome = CheckInResult | BaseException
LateResultListener = Callable[[CheckInRequest, LateOutcome], object]


class FollowStage(Protocol):
    """The last stage: puts the phone link on the ticket (``kiosk.board.follow.FollowLinkStage``)."""

    def add_link(self, result: CheckInResult) -> CheckInResult: ...


class PipelineClosed(RuntimeError):
    """A task submitted after close()."""


class CheckInPipeline:
    """``CheckInHandler``: the stages of a check-in, in order (see the module doc)."""

    def __init__(self, online: CheckInHandler, *, offline: OutboxCheckIn | None = None,
                 insurance: InsuranceSide | None = None, follow: FollowStage | None = None,
                 late_listener: LateResultListener | None = None, close_wait_s: float = CLOSE_WAIT_S,
                 workers: int = WORKERS):
        self.online = online
        self.offline = offline
        self.insurance = insurance
        self.follow = follow
        self.late_listener = late_listener
        self.close_wait_s = close_wait_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="checkin")
        self._lock = threading.Lock()
        self._tasks: dict[Future, str] = {}  # in flight: task name by future
        self._closed = False

    @property
    def stages(self) -> tuple[str, ...]:
        """The names of the stages present, in order."""
        present = {"online": True, "offline": self.offline is not None, "insurance": self.insurance is not None,
                   "follow": self.follow is not None}
        return tuple(name for name, there in present.items() if there)

    # -- the check-in ---------------------------------------------------------------------

    def check_in(self, request: CheckInRequest) -> CheckInResult:
        result = self._visit(request)
        if self.insurance is not None and not result.repeat:  # a repeat made no visit to cover
            result = self.insurance.apply(request, result, self.submit)
        if self.follow is not None:
            result = self.follow.add_link(result)
        return result

    def _visit(self, request: CheckInRequest) -> CheckInResult:
        """The visit: online, or (with the offline stage) online with a deadline, else queued."""
        if self.offline is None:
            return self.online.check_in(request)
        try:
            return self._offline_first(request, self.offline)
        except Exception as exc:
            metrics.CHECKIN_FAILURES.inc(error=type(exc).__name__)
            raise

    def _offline_first(self, request: CheckInRequest, stage: OutboxCheckIn) -> CheckInResult:
        if not is_valid_citizen_id(request.identity.citizen_id):
            raise InvalidIdentity("citizen ID is not 12 digits")
        attempted = False
        late: Future | None = None
        if stage.online():
            attempted = True
            future = self.submit(ONLINE_ATTEMPT, functools.partial(self.online.check_in, request))
            try:
                result = future.result(timeout=stage.deadline_s)
            except HisUnavailable as exc:
                stage.monitor.report_unavailable(str(exc))
                if exc.department_code and not request.department_code:
                    request = dataclasses.replace(request, department_code=exc.department_code)
            except FutureTimeout:
                stage.monitor.report_unavailable(
                    f"no HIS answer within offline.go_offline_after_s = {stage.deadline_s:g} s")
                late = future
            else:
                if not result.repeat:  # a repeat is counted as such (kiosk_checkin_repeats_total)
                    metrics.CHECKINS.inc(mode="online")
                return result
        try:
            return stage.check_in_offline(request, online_attempted=attempted)
        finally:
            if late is not None:  # the attempt goes on; its outcome comes after the offline ticket
                late.add_done_callback(functools.partial(self._late, request))

    # -- an attempt that outlived the deadline ----------------------------------------------

    def _late(self, request: CheckInRequest, future: Future) -> None:
        try:
            outcome: LateOutcome = future.result(timeout=0)
        except CancelledError as exc:  # still queued when the pipeline closed
            outcome = exc
        except Exception as exc:  # noqa: BLE001 - the attempt's error is its outcome
            outcome = exc
        self.on_late_result(request, outcome)

    def on_late_result(self, request: CheckInRequest, outcome: LateOutcome) -> None:
        """The hook for an online attempt that ended after the patient's
        deadline (the patient holds the offline ticket, written before this
        is called): ``outcome`` is its ``CheckInResult`` (the visit is in the
        HIS) or the error it ended with. Records it (no personal data: the
        outbox entry stays the source of truth) and tells ``late_listener``."""
        error = "" if isinstance(outcome, CheckInResult) else type(outcome).__name__
        log.warning("online attempt finished after the deadline", extra={
            "event": "checkin.late_online", "reached_his": not error, "error": error, "ref": request.checkin_id})
        if self.late_listener is not None:
            try:
                self.late_listener(request, outcome)
            except Exception:
                log.exception("late online hook failed", extra={"event": "checkin.late_online_hook_failed"})

    # -- the executor --------------------------------------------------------------------

    def submit(self, name: str, fn: Callable[[], object]) -> Future:
        """Run ``fn`` as the task ``name`` on the pipeline's executor (``PipelineClosed`` after close())."""
        with self._lock:
            if self._closed:
                raise PipelineClosed(f"the check-in pipeline is closed ({name})")
            future = self._pool.submit(fn)
            self._tasks[future] = name
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._tasks.pop(future, None)

    def in_flight(self) -> list[str]:
        """The names of the tasks not finished yet (for close() and the tests)."""
        with self._lock:
            return sorted(self._tasks.values())

    def close(self, timeout_s: float | None = None) -> bool:
        """Wait at most ``timeout_s`` (default ``close_wait_s``) for the tasks in
        flight, then shut the executor down (tasks not started are cancelled).
        True when nothing was left running. Idempotent."""
        bound = self.close_wait_s if timeout_s is None else timeout_s
        with self._lock:
            if self._closed:
                return not self._tasks
            self._closed = True
            pending = list(self._tasks)
        if pending:
            wait_futures(pending, timeout=bound)
        self._pool.shutdown(wait=False, cancel_futures=True)
        running = self.in_flight()
        if running:
            log.warning("check-in tasks still running at close", extra={
                "event": "checkin.close_left_running", "tasks": running, "waited_s": bound})
        return not running
