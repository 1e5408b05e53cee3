"""Going offline, queuing, and delivering exactly once — against the sandbox HIS
(a real FHIR engine) with injected faults: 503s, slowness, refused connections."""
from __future__ import annotations

import logging
import time

import pytest

from kiosk.checkin.offline_first import OfflineUnavailable
from kiosk.errors import DepartmentRequired, UnknownDepartment
from kiosk.operations import metrics
from kiosk.operations.diagnostics import FAIL
from kiosk.ports import MODE_OFFLINE, MODE_ONLINE
from offline_cache import diagnose
from offline_cache.connectivity import recent_mode_changes
from tests.helpers import request_for
from tests.offline.helpers import Parts, encounters_by_checkin, identity, offline_config

pytestmark = pytest.mark.integration


@pytest.fixture
def parts(tmp_path, his_sandbox):
    p = Parts(offline_config(tmp_path, his_sandbox.base_url))
    p.prober.refresh_reference(force=True)
    yield p
    his_sandbox.set_faults()
    p.close()


def wait_for(predicate, timeout=20.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def test_online_check_in_goes_straight_to_the_his(parts):
    result = parts.handler.check_in(request_for(identity(100), "NOI"))
    assert result.mode == "online" and not result.ticket.offline and result.encounter_id
    assert parts.store.backlog() == 0


def test_503_goes_offline_queues_and_delivers_once_with_the_offline_label(parts, his_sandbox, caplog):
    seen = []
    parts.monitor.subscribe(seen.append)
    his_sandbox.set_faults(fail_status=503, fail_count=1000)
    req = request_for(identity(110), "NOI")
    result = parts.handler.check_in(req)
    assert result.mode == "offline" and result.ticket.offline
    assert result.ticket.label.startswith("K1-") and result.ticket.number > 1_000_000
    assert parts.monitor.mode() == MODE_OFFLINE and seen == [MODE_ONLINE, MODE_OFFLINE]
    changes = recent_mode_changes(parts.database)
    assert changes[0]["mode"] == "offline" and "503" in changes[0]["reason"]
    assert metrics.REGISTRY.value("kiosk_online") == 0

    # Offline now: the next check-in does not even try the HIS.
    his_sandbox.reset_stats()
    second = parts.handler.check_in(request_for(identity(111), "NHI"))
    assert second.mode == "offline" and his_sandbox.stats()["requests"] == 0
    assert parts.store.backlog() == 2

    # The probe sees the HIS come back.
    assert not parts.prober.probe_once()
    his_sandbox.set_faults()
    assert parts.prober.probe_once() and parts.monitor.mode() == MODE_ONLINE
    report = parts.sender.sync_now()
    assert report.delivered == 2 and report.dead == 0
    counts = encounters_by_checkin(parts.his, [req.checkin_id, second.ticket.reference])
    assert set(counts.values()) == {1}
    visit = parts.his.find_visit(req.checkin_id)
    assert visit.queue_label == result.ticket.label and visit.queue_number == result.ticket.number
    row = parts.store.entries()[-1]
    assert row["state"] == "delivered" and row["his_encounter_id"] == visit.encounter_id
    assert row["his_queue_label"] == result.ticket.label


def test_a_slow_his_switches_to_offline_within_the_deadline_and_the_late_visit_is_relabelled(parts, his_sandbox):
    his_sandbox.set_faults(delay_ms=700)  # each request slow: the whole check-in takes > 1 s
    req = request_for(identity(120), "NOI")
    result = parts.handler.check_in(req)
    assert result.mode == "offline" and parts.monitor.mode() == MODE_OFFLINE
    # The abandoned online attempt reaches the HIS later, with an online number.
    assert wait_for(lambda: parts.his.find_visit(req.checkin_id) is not None, timeout=30)
    his_sandbox.set_faults()
    assert parts.prober.probe_once()
    report = parts.sender.sync_now()
    assert report.already_in_his == 1 and report.delivered == 0 and report.relabelled == 1
    visit = parts.his.find_visit(req.checkin_id)
    assert visit.queue_label == result.ticket.label  # the paper ticket matches the calling board
    assert encounters_by_checkin(parts.his, [req.checkin_id]) == {req.checkin_id: 1}


def test_a_late_online_attempt_and_the_sender_running_at_once_make_one_visit(parts, his_sandbox):
    """The attempt outlives the deadline and keeps running while the sender
    delivers the same check-in's outbox entry: the check-in id keys both
    writes (conditional creates; the entry, marked online_attempted, is looked
    up first), so the HIS ends with one visit, and the late result is heard."""
    heard = []
    parts.handler.late_listener = lambda request, outcome: heard.append((request.checkin_id, outcome))
    his_sandbox.set_faults(delay_ms=700)  # each request slow: the whole check-in takes > 1 s
    req = request_for(identity(125), "NOI")
    result = parts.handler.check_in(req)
    assert result.mode == "offline" and parts.handler.in_flight() == ["online-attempt"]
    parts.monitor.report_ok("test: the probe saw the HIS again")
    parts.sender.sync_now(max_seconds=60)  # while the attempt is in flight (the sandbox is slow for both)
    assert wait_for(lambda: heard, timeout=60)
    assert heard[0][0] == req.checkin_id
    his_sandbox.set_faults()
    parts.sender.sync_now(max_seconds=60)
    assert encounters_by_checkin(parts.his, [req.checkin_id]) == {req.checkin_id: 1}
    assert [e["state"] for e in parts.store.entries() if e["checkin_id"] == req.checkin_id] == ["delivered"]


def test_patient_created_in_the_his_meanwhile_is_matched_not_duplicated(parts, his_sandbox):
    ident = identity(130, name="LÊ THỊ HOA")
    parts.monitor.report_unavailable("test: network cable pulled")
    req = request_for(ident, "MAT")
    assert parts.handler.check_in(req).mode == "offline"
    # Meanwhile the front desk registers the same person in the HIS.
    created = parts.his.client.create({
        "resourceType": "Patient", "identifier": [{"system": parts.config.his.cccd_system, "value": ident.citizen_id}],
        "name": [{"text": "LÊ THỊ HOA", "family": "LÊ", "given": ["THỊ", "HOA"]}]}).body
    parts.monitor.report_ok("test")
    assert parts.sender.sync_now().delivered == 1
    patients, _ = parts.his.client.search("Patient", {
        "identifier": f"{parts.config.his.cccd_system}|{ident.citizen_id}"})
    assert [p["id"] for p in patients] == [created["id"]]
    assert parts.his.find_visit(req.checkin_id).patient_id == created["id"]


def test_new_patient_checked_in_twice_offline_is_created_once(parts):
    ident = identity(135, name="PHẠM VĂN ĐỨC")
    parts.monitor.report_unavailable("test")
    reqs = [request_for(ident, d) for d in ("NOI", "MAT", "TMH")]
    for r in reqs:
        parts.handler.check_in(r)
    parts.monitor.report_ok("test")
    report = parts.sender.sync_now()
    assert report.delivered == 3
    patients, _ = parts.his.client.search("Patient", {
        "identifier": f"{parts.config.his.cccd_system}|{ident.citizen_id}"})
    assert len(patients) == 1
    visits = [parts.his.find_visit(r.checkin_id) for r in reqs]
    assert {v.patient_id for v in visits} == {patients[0]["id"]}
    delivered = sorted(parts.store.entries(), key=lambda e: e["delivered_at"])
    assert [e["checkin_id"] for e in delivered] == [r.checkin_id for r in reqs]  # in order


def test_failures_back_off_then_dead_letter_with_alert(tmp_path, his_sandbox, caplog):
    p = Parts(offline_config(tmp_path, his_sandbox.base_url, max_attempts=3))
    try:
        p.prober.refresh_reference(force=True)
        p.monitor.report_unavailable("test")
        req = request_for(identity(140), "NOI")
        p.handler.check_in(req)
        p.monitor.report_ok("test")
        his_sandbox.set_faults(fail_status=400, fail_count=10_000)  # the HIS keeps refusing
        before = metrics.REGISTRY.value("kiosk_outbox_dead_letters_total") or 0
        with caplog.at_level(logging.INFO):
            r1 = p.sender.deliver_due()
            assert r1.failed == 1 and p.sender.deliver_due().claimed == 0  # backing off
            assert wait_for(lambda: p.sender.deliver_due().failed == 1, timeout=5)
            assert wait_for(lambda: p.sender.deliver_due().dead == 1, timeout=5)
        entry = p.store.entries()[0]
        assert entry["state"] == "dead" and entry["attempts"] == 3
        assert entry["last_error"].startswith("HisRefused") and "400" in entry["last_error"]
        assert req.identity.citizen_id not in entry["last_error"]
        assert metrics.REGISTRY.value("kiosk_outbox_dead_letters_total") == before + 1
        dead_logs = [r for r in caplog.records if getattr(r, "event", "") == "outbox.dead_letter"]
        assert dead_logs and dead_logs[0].levelno == logging.ERROR
        checks = {c.name: c for c in diagnose(p.config)}
        assert checks["outbox.dead_letters"].status == FAIL and "retry" in checks["outbox.dead_letters"].fix
        # Staff fix the cause and retry: delivered once.
        his_sandbox.set_faults()
        assert p.store.retry(entry["id"])
        assert p.sender.sync_now().delivered == 1
        assert encounters_by_checkin(p.his, [req.checkin_id]) == {req.checkin_id: 1}
    finally:
        his_sandbox.set_faults()
        p.close()


def test_offline_check_in_needs_a_cached_department(tmp_path, his_sandbox):
    p = Parts(offline_config(tmp_path, his_sandbox.base_url))
    try:
        p.monitor.report_unavailable("test")
        with pytest.raises(OfflineUnavailable):  # never online since install: nothing cached
            p.handler.check_in(request_for(identity(150), "NOI"))
        p.prober.refresh_reference(force=True)
        with pytest.raises(DepartmentRequired):
            p.handler.check_in(request_for(identity(150), None))
        with pytest.raises(UnknownDepartment):
            p.handler.check_in(request_for(identity(150), "NO-SUCH"))
        assert p.store.backlog() == 0
        assert p.handler.check_in(request_for(identity(150), "NHI")).ticket.department_name
    finally:
        p.close()


def test_two_kiosks_offline_at_once_keep_distinct_numbers(tmp_path, his_sandbox):
    k1 = Parts(offline_config(tmp_path / "k1", his_sandbox.base_url, kiosk_id="KIOSK-01"))
    k2 = Parts(offline_config(tmp_path / "k2", his_sandbox.base_url, kiosk_id="KIOSK-02"))
    try:
        online = [k1.handler.check_in(request_for(identity(160 + i), "TIM")) for i in range(3)]
        for k in (k1, k2):
            k.prober.refresh_reference(force=True)
            k.monitor.report_unavailable("test: both kiosks lose the network")
        tickets = []
        for i in range(10):
            for n, k in enumerate((k1, k2)):  # different patients: one patient twice is a same-day duplicate
                tickets.append(k.handler.check_in(request_for(identity(170 + 2 * i + n), "TIM")).ticket)
        assert all(t.offline for t in tickets)
        assert len({t.number for t in tickets}) == len({t.label for t in tickets}) == 20
        assert {t.label[:3] for t in tickets} == {"K1-", "K2-"}
        assert not {t.number for t in tickets} & {r.ticket.number for r in online}
        for k in (k1, k2):
            k.monitor.report_ok("test")
            assert k.sender.sync_now().delivered == 10
        system = k1.config.his.checkin_system
        refs = [r.ticket.reference for r in online] + [t.reference for t in tickets]
        encounters, _ = k1.his.client.search("Encounter", {
            "identifier": ",".join(f"{system}|{c}" for c in refs), "_count": "100"})
        queue_ids = [i["value"] for e in encounters for i in e["identifier"]
                     if i["system"] == k1.config.his.queue_system]
        assert len(queue_ids) == 23  # 3 online + 20 offline visits
        assert len(queue_ids) == len(set(queue_ids))  # no two visits share a queue number
    finally:
        k1.close()
        k2.close()


def test_probe_goes_offline_within_the_deadline_on_a_hanging_his_and_back(parts, his_sandbox):
    his_sandbox.set_faults(delay_ms=3000)  # answers, but far later than go_offline_after_s (1 s)
    started = time.monotonic()
    assert not parts.prober.probe_once()
    assert time.monotonic() - started < 3.0 and parts.monitor.mode() == MODE_OFFLINE
    assert "go_offline_after_s" in recent_mode_changes(parts.database)[0]["reason"]
    his_sandbox.set_faults()
    assert wait_for(parts.prober.probe_once, timeout=15)
    assert parts.monitor.mode() == MODE_ONLINE
    assert recent_mode_changes(parts.database)[0]["mode"] == MODE_ONLINE


def test_no_personal_data_in_logs_errors_or_it_views(parts, his_sandbox, caplog):
    ident = identity(180, name="HOÀNG THỊ MAI")
    his_sandbox.set_faults(fail_status=503, fail_count=1000)
    with caplog.at_level(logging.DEBUG):
        parts.handler.check_in(request_for(ident, "NOI"))
        parts.sender.deliver_due(ignore_backoff=True)  # fails: the HIS still answers 503
        his_sandbox.set_faults()
        parts.prober.probe_once()
        parts.sender.sync_now()
    # Our own loggers (urllib3's DEBUG lines carry query strings; the JSON log
    # formatter of kiosk.operations.logs masks ID numbers in those).
    ours = [r for r in caplog.records if r.name.startswith(("kiosk", "offline_cache"))]
    assert any(getattr(r, "event", "") == "checkin.offline" for r in ours)
    texts = [r.getMessage() + " " + " ".join(str(v) for v in vars(r).values()) for r in ours]
    texts += [str(e) for e in parts.store.entries()]
    texts += [str(c) for c in recent_mode_changes(parts.database)]
    texts += [str(c) for c in diagnose(parts.config)]
    for text in texts:
        assert ident.citizen_id not in text and "HOÀNG" not in text and "MAI" not in text
