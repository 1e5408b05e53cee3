"""The BHYT recheck queue in the kiosk's database (migration 4): durable
entries keyed by the check-in, backoff and dead letters, staff retry, no
personal data in what IT sees, and personal data purged after delivery."""
from __future__ import annotations

import json
import random
import time
from datetime import date, datetime, timezone

from kiosk.domain import VisitCoverage
from kiosk.insurance.card_check import CoverageStatus, InsuranceCheck, no_answer
from offline_cache.db import SCHEMA_VERSION, LocalDatabase
from offline_cache.insurance_queue import InsuranceQueue
from offline_cache.insurance_sender import InsuranceSender
from tests.helpers import make_config

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)
CARD, NAME, BORN = "099900000000", "NGUYỄN VĂN THỬ", date(1980, 1, 1)


class Gateway:
    """Answers the recheck from a list (what the real gateway would say, in order)."""

    def __init__(self, *answers):
        self.answers, self.asked = list(answers), []

    def check(self, card, name, born, *, timeout_s=None):
        self.asked.append((card, name, born, timeout_s))
        return self.answers.pop(0)


class His:
    def __init__(self):
        self.recorded = []

    def settle_visit(self, checkin_id):
        from kiosk.ports import RecordedVisit
        return RecordedVisit("p1", "e1", None, 1, "001")

    def record_coverage(self, encounter_id, patient_id, check, *, bill):
        self.recorded.append((encounter_id, patient_id, check.status.value, bill))
        return "c1"


def valid() -> InsuranceCheck:
    return InsuranceCheck(status=CoverageStatus.VALID, result_code="000", message_key="coverage.valid",
                          staff_reason="card valid", checked_at=NOW, about_card=True, card_number="GD4990000000000",
                          valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31))


def queue_at(tmp_path) -> InsuranceQueue:
    return InsuranceQueue(LocalDatabase(tmp_path / "k.sqlite3"), "K1")


def test_the_migration_adds_the_queue_and_entries_are_keyed_by_the_check_in(tmp_path):
    queue = queue_at(tmp_path)
    assert queue.database.version() == SCHEMA_VERSION == 4
    unchecked = VisitCoverage(None, CARD, NAME, BORN)
    assert queue.enqueue("c1", unchecked, "slow gateway") and queue.enqueue("c1", unchecked, "again")
    assert not queue.enqueue("c2", VisitCoverage(None, CARD, None, None), "typed ID unknown to the HIS")
    assert queue.backlog() == 1
    [entry] = queue.entries()
    assert entry["reason"] == "slow gateway" and entry["has_answer"] == 0
    assert not any(secret in json.dumps(entry, ensure_ascii=False) for secret in (CARD, NAME, "1980"))


def test_a_recheck_backs_off_then_dies_and_staff_can_retry_it(tmp_path):
    config = make_config(insurance={"max_attempts": 2, "retry_base_s": 30.0})
    queue = queue_at(tmp_path)
    down = no_answer(CoverageStatus.UNAVAILABLE, "check: the gateway answered HTTP 503", NOW)
    gateway = Gateway(down, down, valid())
    sender = InsuranceSender(His(), gateway, queue, config, rng=random.Random(1))
    queue.enqueue("c1", VisitCoverage(None, CARD, NAME, BORN), "gateway down")
    assert sender.deliver_due()["failed"] == 1
    [entry] = queue.entries()
    assert entry["state"] == "pending" and entry["next_attempt_at"] > time.time() + 10  # backs off
    assert "HTTP 503" in entry["last_error"]
    assert sender.deliver_due()["claimed"] == 0  # not due yet
    assert sender.deliver_due(ignore_backoff=True)["dead"] == 1
    assert queue.entries()[0]["state"] == "dead" and queue.counts()["dead"] == 1
    assert queue.retry(entry["id"]) and sender.deliver_due()["written"] == 1
    assert gateway.asked[-1] == (CARD, NAME, BORN, config.insurance.timeout_s)
    assert queue.entries()[0]["outcome"].startswith("valid 000: Coverage/c1 recorded, visit billed")


def test_a_known_answer_only_writes_and_personal_data_is_purged_after_delivery(tmp_path):
    config = make_config()
    queue = queue_at(tmp_path)
    his = His()
    sender = InsuranceSender(his, Gateway(), queue, config)
    queue.enqueue("c1", VisitCoverage(valid(), CARD, NAME, BORN, fee_paying=True), "HIS slow after the visit")
    assert sender.deliver_due()["written"] == 1
    assert his.recorded == [("e1", "p1", "valid", False)]  # fee-paying: the visit is not billed to the card
    assert queue.purge(24.0) == 0  # kept for the retention time
    assert queue.purge(24.0, now=time.time() + 25 * 3600) == 1
    row = queue.database.read("SELECT payload, purged_at FROM insurance_queue")[0]
    assert row["payload"] is None and row["purged_at"]


def test_staff_see_the_queue_in_kiosk_doctor_the_admin_screen_and_the_metrics(tmp_path):
    from kiosk.operations import metrics
    from offline_cache import diagnose
    from offline_cache.wiring import build_parts
    from ui.admin.actions import AdminActions, AdminTools

    config = make_config(kiosk={"data_dir": str(tmp_path)}, insurance={"max_attempts": 1})
    down = no_answer(CoverageStatus.UNAVAILABLE, "check: the gateway answered HTTP 503", NOW)
    his = His()
    parts = build_parts(config, his, Gateway(down, valid()))
    try:
        parts.insurance.enqueue("c1", VisitCoverage(None, CARD, NAME, BORN), "gateway down at check-in")
        assert parts.insurance_sender.deliver_due()["dead"] == 1
        assert metrics.REGISTRY.value("kiosk_insurance_queue_dead") == 1
        checks = {c.name: c for c in diagnose(config)}
        assert checks["insurance.dead_letters"].status == "FAIL" and "Retry now" in checks["insurance.dead_letters"].fix
        assert checks["insurance.queue"].status == "OK"
        actions = AdminActions(None, config, type("S", (), {"outbox": parts})(),
                               AdminTools(lambda *a: [], lambda c: None, lambda c: None, lambda: {}))
        view = actions.outbox_view()
        [row] = [r for r in view.rows if r.startswith("BHYT")]
        assert "dead" in row and "check the card" in row and "HTTP 503" in row and CARD not in row
        assert actions.retry_outbox().ok and parts.insurance_backlog() == 1  # staff: Retry now
        parts.insurance_sender.deliver_due()
        assert parts.insurance_entries()[0]["state"] == "done" and his.recorded == [("e1", "p1", "valid", True)]
    finally:
        parts.close()


def test_a_damaged_database_gives_back_its_bhyt_rechecks_once(tmp_path):
    """`kiosk outbox recover`: the BHYT checks still to do in a kept (damaged)
    file go back into the live recheck queue, once; none of them is shown."""
    from offline_cache.recover import recover_into

    old = queue_at(tmp_path)
    assert old.enqueue("c-waiting", VisitCoverage(None, CARD, NAME, BORN), "gateway down")
    assert old.enqueue("c-done", VisitCoverage(valid(), CARD, NAME, BORN), "coverage not written")
    [done] = [e for e in old.entries() if e["checkin_id"] == "c-done"]
    with old.database.write() as conn:
        conn.execute("UPDATE insurance_queue SET state = 'done' WHERE id = ?", (done["id"],))
    old.database.close()
    kept = tmp_path / "k.sqlite3"
    data = kept.read_bytes()
    kept.write_bytes(b"\x13\x37 not sqlite \x00\xff" + data[16:])  # the header overwritten

    live = LocalDatabase(tmp_path / "live" / "kiosk.sqlite3")
    try:
        report = recover_into(live, kept)
        assert report.header_repaired and report.rechecks_imported == 1 and not report.rechecks_unreadable
        assert any("1 BHYT check(s) still to make or record" in line for line in report.lines())
        assert not any(secret in json.dumps(report.to_json(), ensure_ascii=False) for secret in (CARD, NAME))
        queue = InsuranceQueue(live, "K1")
        [entry] = queue.entries()
        assert entry["checkin_id"] == "c-waiting" and entry["state"] == "pending"
        assert entry["reason"].startswith("recovered from k.sqlite3")
        assert recover_into(live, kept).rechecks_imported == 0  # a second run brings nothing twice
    finally:
        live.close()


def test_a_file_sqlite_cannot_open_says_its_rechecks_were_not_read(tmp_path):
    from offline_cache.recover import recover_into

    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(bytes(range(256)) * 64)
    live = LocalDatabase(tmp_path / "live" / "kiosk.sqlite3")
    try:
        report = recover_into(live, junk)
        assert report.rechecks_unreadable and report.rechecks_imported == 0
    finally:
        live.close()


def test_dead_rechecks_from_before_a_restart_are_on_the_metrics_at_once(tmp_path):
    """The alert KioskInsuranceRechecksDead reads kiosk_insurance_queue_dead: after a restart it
    must show what the database holds before the worker's first batch."""
    from kiosk.operations import metrics
    from offline_cache.wiring import build_parts

    config = make_config(kiosk={"data_dir": str(tmp_path)}, insurance={"max_attempts": 1})
    down = no_answer(CoverageStatus.UNAVAILABLE, "check: the gateway answered HTTP 503", NOW)
    parts = build_parts(config, His(), Gateway(down))
    try:
        parts.insurance.enqueue("c1", VisitCoverage(None, CARD, NAME, BORN), "gateway down at check-in")
        assert parts.insurance_sender.deliver_due()["dead"] == 1
    finally:
        parts.close()
    metrics.REGISTRY.clear()  # a new process
    parts = build_parts(config, His(), Gateway())
    try:
        assert metrics.REGISTRY.value("kiosk_insurance_queue_dead") == 1  # no worker has run yet
        assert metrics.REGISTRY.value("kiosk_outbox_dead") == 0
    finally:
        parts.close()
