"""The outbox sender: delivers queued check-ins to the HIS exactly once.

Why it cannot duplicate:
- every write is keyed by the check-in id (conditional creates of the
  Encounter, and of the Patient by its CCCD identifier — a patient created in
  the HIS meanwhile is matched, not duplicated);
- an entry that was tried before (or whose online attempt may have landed)
  is first looked up in the HIS (``settle_visit``); if the visit is there it is
  only marked delivered;
- an entry counts as delivered only once a search of the HIS shows its visit,
  never on the strength of a write's response;
- one patient's entries go in order (the store claims only the first waiting
  entry of each patient).

Failures back off exponentially with jitter (``offline.retry_base_s`` …
``offline.retry_max_s``). ``HisUnavailable`` also switches the kiosk offline
and pauses the sender until the probe sees the HIS again. After
``offline.max_attempts`` tries an entry becomes a dead letter (log event
``outbox.dead_letter``, metric, ``kiosk doctor`` FAIL). Errors only staff can
fix (ambiguous patient records, a department the HIS no longer knows) go
there at once.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import asdict, dataclass
from typing import Callable
from zoneinfo import ZoneInfo

from kiosk.checkin.visit_rules import (
    choose_patient,
    departments_by_code,
    open_visit,
    place,
    room_of,
    todays_appointment,
)
from kiosk.config.loader import Config
from kiosk.domain import OpenVisit
from kiosk.errors import (
    DepartmentRequired,
    HisConflict,
    HisUnavailable,
    InvalidIdentity,
    KioskError,
    PatientAmbiguous,
    UnknownDepartment,
)
from kiosk.insurance.rules import bills_visit, writes_coverage
from kiosk.operations import metrics
from kiosk.ports import MODE_ONLINE, RecordedVisit, VisitPlan
from offline_cache.db import DatabaseClosed
from offline_cache.delivery_errors import error_text, his_call_bound_s
from offline_cache.insurance_queue import InsuranceQueue
from offline_cache.integrity import LIVE_CHECK_EVERY_S, check_live, export_recovery_metric
from offline_cache.outbox import Entry, OutboxStore
from offline_cache.work_queue import BackgroundWorker, retry_at, retry_delay

log = logging.getLogger(__name__)

PERMANENT = (PatientAmbiguous, UnknownDepartment, InvalidIdentity, DepartmentRequired)
BATCH = 25
IDLE_POLL_S = 2.0
PURGE_EVERY_S = 600.0


@dataclass
class SyncReport:
    claimed: int = 0
    delivered: int = 0       # written now and then seen in the HIS
    already_in_his: int = 0  # found in the HIS before writing (an earlier try or online attempt landed)
    relabelled: int = 0      # visits whose label was set to the offline ticket's
    same_day_duplicates: int = 0  # delivered onto the patient's open visit of the day (no second visit)
    failed: int = 0
    dead: int = 0
    his_unavailable: bool = False

    def add(self, other: "SyncReport") -> None:
        for k, v in asdict(other).items():
            setattr(self, k, (getattr(self, k) or v) if isinstance(v, bool) else getattr(self, k) + v)

    def to_json(self) -> dict:
        return asdict(self)


class Sender(BackgroundWorker):
    thread_name, stopped_event, log = "outbox-sender", "outbox.sender_stopped", log

    def __init__(self, his, store: OutboxStore, monitor, config: Config, *, rng: random.Random | None = None,
                 relabel: Callable[[Entry, RecordedVisit], str] | None = None,
                 insurance: InsuranceQueue | None = None,
                 on_his_unavailable: Callable[[str], None] | None = None):
        super().__init__()
        self.his = his
        # Who hears that the HIS did not answer a delivery: the probe, which
        # confirms before the kiosk goes offline (``build_parts``); else the monitor at once.
        self.on_his_unavailable = on_his_unavailable or monitor.report_unavailable
        self.store = store
        self.insurance = insurance  # where a Coverage that could not be written goes
        self.monitor = monitor
        self.config = config
        self.off = config.offline
        self.tz = ZoneInfo(config.kiosk.timezone)
        self.rng = rng or random.Random()
        self.relabel = relabel
        self._busy = threading.Lock()  # one batch at a time (thread and `kiosk sync` in-process)

    # -- one batch ------------------------------------------------------------------------
    def deliver_due(self, *, ignore_backoff: bool = False, limit: int = BATCH) -> SyncReport:
        with self._busy:
            report = SyncReport()
            entries = self.store.claim(limit, lease_s=self.off.lease_s, ignore_backoff=ignore_backoff)
            report.claimed = len(entries)
            written: list[Entry] = []
            for i, entry in enumerate(entries):
                if self._stop.is_set() or report.his_unavailable:
                    self.store.release(entry.id)
                    continue
                try:
                    if entry.verify_first:
                        found = self.his.settle_visit(entry.checkin_id)
                        if found is not None:
                            self._finish(entry, found, report, already=True)
                            continue
                    plan, first = self._plan(entry)
                    if first is not None:
                        self._duplicate(entry, first, report)
                        continue
                    self.his.record_visit(plan)
                    written.append(entry)
                except DatabaseClosed:
                    raise
                except Exception as exc:  # noqa: BLE001 - every failure is recorded on the entry
                    self._failed(entry, exc, report)
            if written:
                self._verify(written, report)
            self.export_gauges(report)
            return report

    def _plan(self, entry: Entry) -> tuple[VisitPlan, OpenVisit | None]:
        """The same visit the online check-in would record, with the offline
        ticket's number, label and room (so the paper ticket stays valid); the
        patient's booked appointment in that department today is linked. With
        it, the patient's open visit of the day in that department made by
        another check-in (``kiosk.repeat_visits = "refuse"``), if the HIS holds one."""
        req, t = entry.request, entry.ticket
        lookup = self.his.lookup_patient(req.identity.citizen_id, entry.day)
        patient = choose_patient(lookup.patients, req.identity.birth_date)
        departments = departments_by_code(self.his.list_departments())
        try:
            department, room = place(departments, None, t.department_code, room_code=t.room_code)
        except UnknownDepartment:
            raise UnknownDepartment(f"department {t.department_code!r} is no longer known to the HIS") from None
        appointment = todays_appointment(lookup, patient, entry.day, self.tz, department_code=department.code)
        first = open_visit(lookup, patient, department.code, checkin_id=entry.checkin_id,
                           repeat_visits=self.config.kiosk.repeat_visits)
        return VisitPlan(
            checkin_id=entry.checkin_id, identity=req.identity, patient=patient,
            appointment=appointment, department=department, room=room or room_of(department, None),
            queue_number=t.number, queue_label=t.label, day=entry.day, arrived_at=entry.arrived_at,
            priority=t.priority, mode="offline"), first

    def _duplicate(self, entry: Entry, first: OpenVisit, report: SyncReport) -> None:
        """Two kiosks, both offline, each gave the patient a ticket for the same
        department today: the HIS already holds the first visit, so no second one
        is made — the entry is delivered onto it and IT is alarmed (the patient
        holds two tickets; the board calls the first number)."""
        log.warning("same-day duplicate check-in: delivered onto the patient's open visit", extra={
            "event": "outbox.same_day_duplicate", "ref": entry.checkin_id, "first_ref": first.checkin_id,
            "department": first.department_code, "offline_label": entry.ticket.label, "his_label": first.queue_label})
        metrics.OUTBOX_SAME_DAY_DUPLICATES.inc()
        self.store.mark_delivered(entry.id, encounter_id=first.encounter_id, his_label=first.queue_label,
                                  note=f"same-day duplicate: delivered onto the open visit {first.queue_label} "
                                       f"of {first.department_code} (no second visit made)")
        report.same_day_duplicates += 1
        metrics.LAST_SYNC.set(time.time())

    def _verify(self, written: list[Entry], report: SyncReport) -> None:
        """Ask the HIS which of the written visits it now holds."""
        try:
            found = self._find_many([e.checkin_id for e in written])
        except DatabaseClosed:
            raise
        except Exception as exc:  # noqa: BLE001
            for entry in written:
                self._failed(entry, exc, report)
            return
        for entry in written:
            visit = found.get(entry.checkin_id)
            if visit is None:
                self._failed(entry, HisConflict("visit not found in the HIS after writing it"), report)
            else:
                self._finish(entry, visit, report, already=False)

    def _find_many(self, checkin_ids: list[str]) -> dict[str, RecordedVisit]:
        found, duplicates = self.his.find_visits(checkin_ids)
        for cid in duplicates:  # must never happen: say so loudly
            log.error("duplicate visit in the HIS", extra={"event": "outbox.duplicate_visit", "ref": cid})
            metrics.OUTBOX_DUPLICATES.inc()
        return found

    def _finish(self, entry: Entry, visit: RecordedVisit, report: SyncReport, *, already: bool) -> None:
        label = visit.queue_label
        if label != entry.ticket.label:
            try:
                label = (self.relabel or self._relabel)(entry, visit)
                report.relabelled += int(label == entry.ticket.label)
            except Exception as exc:  # noqa: BLE001 - delivered anyway; the mapping records both labels
                log.warning("offline label not set on the visit", extra={
                    "event": "outbox.relabel_failed", "ref": entry.checkin_id, "error": error_text(exc)})
        if label != entry.ticket.label:
            log.warning("visit carries another number than the offline ticket", extra={
                "event": "outbox.label_mismatch", "ref": entry.checkin_id, "offline_label": entry.ticket.label,
                "his_label": label})
        self.store.mark_delivered(entry.id, encounter_id=visit.encounter_id, his_label=label)
        self._record_coverage(entry, visit)
        if already:
            report.already_in_his += 1
        else:
            report.delivered += 1
        metrics.LAST_SYNC.set(time.time())

    def _record_coverage(self, entry: Entry, visit: RecordedVisit) -> None:
        """The BHYT answer the offline check-in carried, recorded with the visit;
        a failure hands it to the recheck queue (the visit stays delivered)."""
        coverage = entry.request.coverage
        if coverage is None or not writes_coverage(coverage.check):
            return  # no check here, or nothing to record (a check still to make is in the recheck queue)
        try:
            self.his.record_coverage(visit.encounter_id, visit.patient_id, coverage.check, bill=bills_visit(coverage))
        except Exception as exc:  # noqa: BLE001
            log.warning("coverage not recorded with the visit: queued", extra={
                "event": "outbox.coverage_failed", "ref": entry.checkin_id, "error": error_text(exc)})
            if self.insurance is not None and self.insurance.enqueue(entry.checkin_id, coverage,
                                                                     f"outbox: {error_text(exc)}"):
                self.insurance.kick()

    def _relabel(self, entry: Entry, visit: RecordedVisit) -> str:
        t = entry.ticket
        return self.his.relabel_visit(visit.encounter_id, number=t.number, label=t.label,
                                      department_code=t.department_code, day=entry.day)

    def _failed(self, entry: Entry, exc: BaseException, report: SyncReport) -> None:
        text = error_text(exc)
        if isinstance(exc, HisUnavailable):
            report.his_unavailable = True
            self.on_his_unavailable(f"outbox: {exc}")
        elif not isinstance(exc, KioskError):
            log.error("outbox delivery crashed", exc_info=exc, extra={"event": "outbox.delivery_error",
                                                                       "ref": entry.checkin_id})
        dead = isinstance(exc, PERMANENT) or entry.attempts >= self.off.max_attempts
        delay = retry_delay(entry.attempts, self.off.retry_base_s, self.off.retry_max_s)
        self.store.mark_failed(entry.id, text, retry_at=retry_at(delay, self.rng), dead=dead)
        if dead:
            report.dead += 1
            metrics.OUTBOX_DEAD_LETTERS.inc()
            log.error("outbox entry moved to dead letters: staff must check it", extra={
                "event": "outbox.dead_letter", "entry": entry.id, "ref": entry.checkin_id,
                "attempts": entry.attempts, "error": text})
        else:
            report.failed += 1
            log.info("outbox delivery failed, will retry", extra={
                "event": "outbox.retry_later", "entry": entry.id, "attempts": entry.attempts, "error": text,
                "retry_in_s": round(delay, 2)})

    def export_gauges(self, report: SyncReport | None = None) -> None:
        counts = self.store.counts()
        metrics.OUTBOX_BACKLOG.set(counts["pending"] + counts["sending"])
        metrics.OUTBOX_DEAD.set(counts["dead"])
        metrics.OUTBOX_OLDEST_AGE.set(self.store.oldest_waiting_age_s() or 0)
        generation = getattr(self.store.database, "generation", None)
        if generation is not None:
            export_recovery_metric(generation)

    # -- deliver everything now (kiosk sync) --------------------------------------------
    def sync_now(self, *, max_seconds: float = 300.0) -> SyncReport:
        """Deliver what can be delivered now: first pass ignores backoff."""
        total = SyncReport()
        self.store.release_stale()
        deadline = time.monotonic() + max_seconds
        first = True
        while time.monotonic() < deadline:
            report = self.deliver_due(ignore_backoff=first)
            total.add(report)
            first = False
            if report.claimed == 0 or report.his_unavailable:
                break
        return total

    # -- background thread (kick, sleep, chores: offline_cache.work_queue) -----------------
    def start(self) -> None:
        self.store.release_stale()
        super().start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the thread and wait until it has finished the entry it is
        sending (recording the outcome) and handed back the rest of its batch
        — the database may close right after. The wait is bounded by one HIS
        call's timeouts (``his_call_bound_s``); past it the thread stops at
        its next database access without touching it (``DatabaseClosed``)."""
        if not self._join(his_call_bound_s(self.config) if timeout is None else timeout):
            log.warning("outbox sender still waiting for the HIS at stop; its entry is resent (verified "
                        "first) at the next start", extra={"event": "outbox.sender_stop_timeout"})

    def _purge(self) -> None:
        purged = self.store.purge(self.off.retention_hours)
        if purged:
            log.info("personal data of delivered check-ins purged", extra={"event": "outbox.purged", "count": purged})

    def _loop(self) -> None:
        while not self._stop.is_set():
            # damaged, replaced, deleted or rows lost: an alarm now (it was checked when it was opened)
            self._every("live_check", LIVE_CHECK_EVERY_S, lambda: check_live(self.store.database),
                        "outbox.check_failed", first_after=LIVE_CHECK_EVERY_S)
            self._every("purge", PURGE_EVERY_S, self._purge, "outbox.purge_failed")
            if self.monitor.mode() != MODE_ONLINE:
                # the backlog grows while offline: keep IT informed
                self._guarded(lambda: self.export_gauges(SyncReport()), "outbox.gauges_failed")
                self._sleep(self.off.probe_interval_s)
                continue
            report = self._guarded(self.deliver_due, "outbox.loop_error")
            if report is None:
                self._sleep(IDLE_POLL_S)
            elif report.his_unavailable:  # the probe decides whether the HIS is down; no tight loop meanwhile
                self._sleep(self.off.probe_interval_s)
            elif report.claimed == 0:
                self._sleep_until_due(self.store.next_due_at(), IDLE_POLL_S, 0.02)

