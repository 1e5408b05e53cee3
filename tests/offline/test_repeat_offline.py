"""One number per visit, offline (issue 24): a second offline check-in on one
kiosk sees the first in the outbox; two kiosks offline at once cannot see each
other, so delivery finds the first visit in the HIS (the sandbox), makes no
second one, and raises the alarm (log event, metric)."""
from __future__ import annotations

import logging

import pytest

from kiosk.operations import metrics
from tests.helpers import make_config, request_for
from tests.offline.helpers import FAST, Parts, encounters_by_checkin, identity

pytestmark = pytest.mark.integration


def kiosk(path, sandbox, kiosk_id="KIOSK-01", **kiosk_keys):
    config = make_config(sandbox.base_url, kiosk={"data_dir": str(path), "id": kiosk_id, **kiosk_keys},
                         offline=FAST, his={"connect_timeout_s": 1.0, "read_timeout_s": 5.0})
    p = Parts(config)
    p.prober.refresh_reference(force=True)
    return p


def test_offline_twice_on_one_kiosk_the_second_sees_the_first(tmp_path, his_sandbox):
    k = kiosk(tmp_path, his_sandbox)
    try:
        k.monitor.report_unavailable("test: offline")
        who = identity(501)
        first = k.handler.check_in(request_for(who, "NOI"))
        again = k.handler.check_in(request_for(who, "NOI"))
        assert first.ticket.offline and not first.repeat
        assert again.repeat and again.ticket.label == first.ticket.label
        assert again.ticket.reference == first.ticket.reference
        assert k.store.backlog() == 1  # no second entry
        other = k.handler.check_in(request_for(who, "MAT"))  # another department: a visit of its own
        assert not other.repeat and k.store.backlog() == 2
        k.monitor.report_ok("test")
        report = k.sender.sync_now()
        assert report.delivered == 2 and report.same_day_duplicates == 0
        # Delivered now: a third check-in, online, finds the visit in the HIS.
        online = k.handler.check_in(request_for(who, "NOI"))
        assert online.repeat and online.mode == "online" and online.ticket.label == first.ticket.label
        assert encounters_by_checkin(k.his, [first.ticket.reference]) == {first.ticket.reference: 1}
    finally:
        k.close()


def test_two_kiosks_offline_make_one_visit_and_alarm(tmp_path, his_sandbox, caplog):
    k1 = kiosk(tmp_path / "k1", his_sandbox, "KIOSK-01")
    k2 = kiosk(tmp_path / "k2", his_sandbox, "KIOSK-02")
    try:
        for k in (k1, k2):
            k.monitor.report_unavailable("test: both kiosks lose the network")
        who = identity(502)
        a = k1.handler.check_in(request_for(who, "NOI"))
        b = k2.handler.check_in(request_for(who, "NOI"))
        assert not a.repeat and not b.repeat and a.ticket.label != b.ticket.label  # they cannot see each other
        before = metrics.REGISTRY.value("kiosk_outbox_same_day_duplicates_total") or 0
        caplog.set_level(logging.INFO)
        for k in (k1, k2):
            k.monitor.report_ok("test")
        assert k1.sender.sync_now().delivered == 1
        report = k2.sender.sync_now()
        assert report.delivered == 0 and report.same_day_duplicates == 1
        counts = encounters_by_checkin(k1.his, [a.ticket.reference, b.ticket.reference])
        assert counts == {a.ticket.reference: 1, b.ticket.reference: 0}  # one visit
        assert metrics.REGISTRY.value("kiosk_outbox_same_day_duplicates_total") == before + 1
        entry = next(e for e in k2.store.entries() if e["checkin_id"] == b.ticket.reference)
        assert entry["state"] == "delivered" and "same-day duplicate" in entry["last_error"]
        first = k1.his.find_visit(a.ticket.reference)
        mapped = k2.database.read("SELECT his_encounter_id, his_queue_label FROM checkins WHERE checkin_id = ?",
                                  (b.ticket.reference,))[0]
        assert mapped == {"his_encounter_id": first.encounter_id, "his_queue_label": first.queue_label}
        alarms = [r for r in caplog.records if getattr(r, "event", "") == "outbox.same_day_duplicate"]
        assert len(alarms) == 1 and alarms[0].levelno == logging.WARNING
        text = " ".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
        assert who.citizen_id not in text and (who.full_name or "") not in text  # no personal data
    finally:
        k1.close()
        k2.close()


def test_allow_delivers_both_visits(tmp_path, his_sandbox):
    k1 = kiosk(tmp_path / "k1", his_sandbox, "KIOSK-01", repeat_visits="allow")
    k2 = kiosk(tmp_path / "k2", his_sandbox, "KIOSK-02", repeat_visits="allow")
    try:
        for k in (k1, k2):
            k.monitor.report_unavailable("test: offline")
        who = identity(503)
        a = k1.handler.check_in(request_for(who, "NOI"))
        again = k1.handler.check_in(request_for(who, "NOI"))
        b = k2.handler.check_in(request_for(who, "NOI"))
        assert not again.repeat and again.ticket.label != a.ticket.label
        for k in (k1, k2):
            k.monitor.report_ok("test")
        assert k1.sender.sync_now().delivered == 2
        report = k2.sender.sync_now()
        assert report.delivered == 1 and report.same_day_duplicates == 0
        refs = [a.ticket.reference, again.ticket.reference, b.ticket.reference]
        assert encounters_by_checkin(k1.his, refs) == {r: 1 for r in refs}
    finally:
        k1.close()
        k2.close()
