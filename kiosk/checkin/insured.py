"""The BHYT side of a check-in: a stage of the check-in pipeline.

After the pipeline (``kiosk.checkin.pipeline``) has checked the patient in
(online, or queued in the outbox), ``InsuranceSide.apply(request, result,
submit)`` does the BHYT part when the request carries the card check (``request.coverage``; None when ``insurance.gateway = "none"`` — then
nothing changes):

- the ticket gets its BHYT line (``kiosk.insurance.rules.ticket_status``);
- online: an answer about the card is recorded in the HIS right after the
  visit (``His.record_coverage``: the Coverage, and the visit's reference when
  it is billed to the card), within ``offline.go_offline_after_s`` — the
  patient does not wait longer; if it fails or is late the write is queued.
  The write is the task "coverage-write" on the pipeline's one executor
  (``submit``): the pipeline owns every thread of a check-in and its close()
  bounds them all;
- offline: the outbox entry carries the answer and the outbox sender records
  it when it delivers the visit;
- a check that could not be made (no answer in time, gateway down, the
  kiosk's credentials refused) goes to the recheck queue (``CoverageQueue``),
  which asks the gateway again later and records the Coverage then.
"""
from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Callable

from kiosk.domain import CheckInRequest, CheckInResult
from kiosk.insurance.rules import bills_visit, queues_recheck, ticket_status, writes_coverage
from kiosk.ports import MODE_ONLINE, CoverageQueue, His

log = logging.getLogger(__name__)


COVERAGE_WRITE = "coverage-write"  # the task's name on the pipeline's executor

Submit = Callable[[str, Callable[[], object]], Future]
"""``submit(task_name, fn)``: run ``fn`` on the pipeline's executor."""


class InsuranceSide:
    """The pipeline's insurance stage: a check-in's BHYT part (see the module doc)."""

    def __init__(self, his: His, queue: CoverageQueue | None, *, deadline_s: float):
        """``queue`` None: no local database (online check-ins only) — nothing can be left for later."""
        self.his, self.queue = his, queue
        self.deadline_s = deadline_s

    def apply(self, request: CheckInRequest, result: CheckInResult, submit: Submit) -> CheckInResult:
        """The result with its ticket's BHYT line, the Coverage written or queued."""
        coverage = request.coverage
        if coverage is None:
            return result
        if queues_recheck(coverage):
            self._queue(request, "no answer about the card at check-in")
        elif result.mode == MODE_ONLINE and writes_coverage(coverage.check):
            self._record(request, result, submit)
        ticket = dataclasses.replace(result.ticket, insurance_status=ticket_status(coverage))
        return dataclasses.replace(result, ticket=ticket)

    def _record(self, request: CheckInRequest, result: CheckInResult, submit: Submit) -> None:
        coverage = request.coverage
        try:
            future = submit(COVERAGE_WRITE, lambda: self.his.record_coverage(
                result.encounter_id, result.patient_id, coverage.check, bill=bills_visit(coverage)))
            future.result(timeout=self.deadline_s)
        except FutureTimeout:
            self._queue(request, f"the Coverage was not written within {self.deadline_s:g} s "
                                 "(offline.go_offline_after_s)")
        except Exception as exc:  # noqa: BLE001 - the visit is recorded: the Coverage follows from the queue
            self._queue(request, f"the Coverage was not written ({type(exc).__name__})")

    def _queue(self, request: CheckInRequest, reason: str) -> None:
        if self.queue is None:
            log.warning("insurance work not queued: no local database", extra={
                "event": "insurance.not_queued", "ref": request.checkin_id, "reason": reason})
            return
        try:
            queued = self.queue.enqueue(request.checkin_id, request.coverage, reason)
        except Exception:  # noqa: BLE001 - never lose the patient's ticket over the recheck queue
            log.exception("insurance recheck not queued", extra={"event": "insurance.queue_failed",
                                                                 "ref": request.checkin_id})
            return
        if queued:
            self.queue.kick()
        log.info("insurance work queued" if queued else "insurance check cannot be made later (no name)",
                 extra={"event": "insurance.queued" if queued else "insurance.not_queued",
                        "ref": request.checkin_id, "reason": reason})
