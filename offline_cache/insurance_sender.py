"""The recheck worker: does the BHYT work the check-in could not finish.

For each due entry of the recheck queue (``offline_cache.insurance_queue``):

1. no answer about the card yet → ask the gateway (``InsuranceGateway.check``,
   within ``insurance.timeout_s``); still no answer → back off and try later;
2. the answer records nothing (no such card, a mismatch) → done;
3. otherwise find the visit in the HIS by its check-in id (an offline visit
   may not be delivered yet: try later) and record the Coverage
   (``His.record_coverage``; the visit references it when it is billed to the
   card) → done. A card found invalid only now, for a visit that went ahead,
   is logged (``insurance.late_invalid``) and counted for staff.

Failures back off with jitter; after ``insurance.max_attempts`` tries an entry
becomes a dead letter (log event, metric, ``kiosk doctor`` FAIL, the admin
screen's outbox tab). Nothing it logs or stores as an error holds personal data.
"""
from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time

from kiosk.config.loader import Config
from kiosk.errors import CoverageOfAnotherPatient, InvalidIdentity
from kiosk.insurance.rules import bills_visit, coverage_status, is_invalid, needs_recheck
from kiosk.operations import metrics
from offline_cache.delivery_errors import error_text, his_call_bound_s
from offline_cache.insurance_queue import InsuranceQueue, QueuedCheck
from offline_cache.work_queue import BackgroundWorker, retry_at, retry_delay

log = logging.getLogger(__name__)

BATCH = 10
IDLE_POLL_S = 5.0
PURGE_EVERY_S = 600.0
LEASE_S = 300.0


class InsuranceSender(BackgroundWorker):
    thread_name, stopped_event, log = "insurance-sender", "insurance.sender_stopped", log

    def __init__(self, his, gateway, queue: InsuranceQueue, config: Config, *, rng: random.Random | None = None):
        super().__init__()
        self.his, self.gateway, self.queue = his, gateway, queue
        self.config = config
        self.settings = config.insurance
        self.rng = rng or random.Random()
        self._busy = threading.Lock()
        queue.on_enqueue = self.kick

    # -- one batch ----------------------------------------------------------------------
    def deliver_due(self, *, ignore_backoff: bool = False, limit: int = BATCH) -> dict[str, int]:
        report = {"claimed": 0, "written": 0, "nothing_to_write": 0, "failed": 0, "dead": 0}
        with self._busy:
            entries = self.queue.claim(limit, lease_s=LEASE_S, ignore_backoff=ignore_backoff)
            report["claimed"] = len(entries)
            for entry in entries:
                if self._stop.is_set():
                    self.queue.release(entry.id)
                    continue
                try:
                    report[self._work(entry)] += 1
                except Exception as exc:  # noqa: BLE001 - every failure is recorded on the entry
                    report["dead" if self._failed(entry, exc) else "failed"] += 1
            self.export_gauges()
        return report

    def _work(self, entry: QueuedCheck) -> str:
        coverage = entry.coverage
        check = coverage.check
        if needs_recheck(check):
            check = self.gateway.check(coverage.card_number, coverage.full_name, coverage.birth_date,
                                       timeout_s=self.settings.timeout_s)
            if needs_recheck(check):
                raise _NoAnswer(f"gateway: {check.staff_reason}")
            coverage = dataclasses.replace(coverage, check=check)
            self.queue.save_answer(entry.id, coverage)
        what = f"{check.status.value} {check.result_code or ''}".strip()
        if coverage_status(check) is None:
            self._done(entry, coverage, f"{what}: nothing to record")
            return "nothing_to_write"
        visit = self.his.settle_visit(entry.checkin_id)
        if visit is None:
            raise _NoAnswer("the visit is not in the HIS yet (an offline check-in not delivered)")
        bill = bills_visit(coverage)
        coverage_id = self.his.record_coverage(visit.encounter_id, visit.patient_id, check, bill=bill)
        self._done(entry, coverage, f"{what}: Coverage/{coverage_id} recorded, "
                                    + ("visit billed to the card" if bill else "visit not billed to the card"))
        return "written"

    def _done(self, entry: QueuedCheck, coverage, outcome: str) -> None:
        check = coverage.check
        late_invalid = is_invalid(check) and not coverage.fee_paying
        if late_invalid:  # the visit went ahead as BHYT with a card that cannot be used
            outcome += "; card invalid: the reception desk must check it"
            metrics.INSURANCE_LATE_INVALID.inc()
            log.warning("the card was found invalid after the visit was registered: the reception desk must check it",
                        extra={"event": "insurance.late_invalid", "ref": entry.checkin_id,
                               "status": check.status.value, "result_code": check.result_code})
        self.queue.mark_done(entry.id, outcome)
        metrics.INSURANCE_QUEUE_DONE.inc()
        log.info("queued insurance work done", extra={"event": "insurance.queue_done", "ref": entry.checkin_id,
                                                       "outcome": outcome})

    def _failed(self, entry: QueuedCheck, exc: BaseException) -> bool:
        text = str(exc) if isinstance(exc, _NoAnswer) else error_text(exc)
        permanent = isinstance(exc, (InvalidIdentity, CoverageOfAnotherPatient))
        dead = permanent or entry.attempts >= self.settings.max_attempts
        delay = retry_delay(entry.attempts, self.settings.retry_base_s, self.settings.retry_max_s)
        self.queue.mark_failed(entry.id, text, retry_at=retry_at(delay, self.rng), dead=dead)
        if dead:
            metrics.INSURANCE_QUEUE_DEAD_LETTERS.inc()
            log.error("queued insurance work moved to dead letters: staff must check it", extra={
                "event": "insurance.dead_letter", "entry": entry.id, "ref": entry.checkin_id,
                "attempts": entry.attempts, "error": text})
        else:
            log.info("queued insurance work failed, will retry", extra={
                "event": "insurance.retry_later", "entry": entry.id, "attempts": entry.attempts, "error": text,
                "retry_in_s": round(delay, 1)})
        return dead

    def export_gauges(self) -> None:
        counts = self.queue.counts()
        metrics.INSURANCE_QUEUE_BACKLOG.set(counts["pending"] + counts["sending"])
        metrics.INSURANCE_QUEUE_DEAD.set(counts["dead"])

    # -- now (kiosk sync, tests) ----------------------------------------------------------
    def deliver_now(self, *, max_seconds: float = 60.0) -> dict[str, int]:
        total: dict[str, int] = {}
        deadline = time.monotonic() + max_seconds
        first = True
        while time.monotonic() < deadline:
            report = self.deliver_due(ignore_backoff=first)
            first = False
            for k, v in report.items():
                total[k] = total.get(k, 0) + v
            if report["claimed"] == 0 or report["failed"] + report["dead"] == report["claimed"]:
                break
        return total

    # -- background thread (start, kick, sleep: offline_cache.work_queue) ------------------
    def stop(self, timeout: float | None = None) -> None:
        """Stop and wait for the recheck in flight (one gateway check and one HIS
        write at most) before the database closes."""
        self._join(self.settings.timeout_s + his_call_bound_s(self.config) if timeout is None else timeout)

    def _purge(self) -> None:
        purged = self.queue.purge(self.config.offline.retention_hours)
        if purged:
            log.info("personal data of done insurance work purged",
                     extra={"event": "insurance.queue_purged", "count": purged})

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._every("purge", PURGE_EVERY_S, self._purge, "insurance.purge_failed")
            report = self._guarded(self.deliver_due, "insurance.loop_error") or {"claimed": 0}
            if report["claimed"] == 0:
                self._sleep_until_due(self.queue.next_due_at(), IDLE_POLL_S, 0.05)


class _NoAnswer(Exception):
    """Not yet possible (no answer about the card, the visit not in the HIS): try later."""
