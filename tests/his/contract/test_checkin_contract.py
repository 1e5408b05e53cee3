"""The check-in contract, against every sandbox profile and queue-number
strategy: each scenario ends with exactly one visit in the HIS and a ticket
that says what the HIS holds."""
from __future__ import annotations

import uuid

import pytest

from kiosk.errors import ConfigError
from tests.his.contract.env import REFUSED, Env, new_identity


def test_booked_patient(env, recorder):
    ident = new_identity()
    appt_id = env.book(ident, "TMH")
    result = env.check_in(ident)
    written = {(method, url.split("/fhir/R4")[1].split("?")[0].strip("/").split("/")[0])
               for method, url in recorder.bodies()}  # what the validator will check after this test
    if env.his.capabilities.has("transaction"):
        assert ("POST", "") in written
    else:
        assert ("POST", "Encounter") in written and ({("PUT", "Appointment"), ("PATCH", "Appointment")} & written)
    assert result.ticket.booked and result.appointment_id == appt_id and not result.patient_created
    visit = env.the_visit(result.ticket.reference, result.ticket)
    assert env.get(f"Appointment/{appt_id}")["status"] == "arrived"
    assert visit.resource["appointment"][0]["reference"] == f"Appointment/{appt_id}"


def test_walk_in_existing_patient(env):
    ident = new_identity()
    patient_id = env.register(ident)
    result = env.check_in(ident, "NOI")
    assert not result.ticket.booked and result.patient_id == patient_id and not result.patient_created
    env.the_visit(result.ticket.reference, result.ticket)
    assert len(env.patients(ident.citizen_id)) == 1


def test_walk_in_new_patient(env):
    ident = new_identity("TRẦN VĂN MỚI")
    result = env.check_in(ident, "MAT")
    assert result.patient_created
    visit = env.the_visit(result.ticket.reference, result.ticket)
    [patient] = env.patients(ident.citizen_id)
    assert visit.resource["subject"]["reference"] == f"Patient/{patient['id']}"
    assert patient["name"][0]["text"] == "TRẦN VĂN MỚI" and patient["birthDate"] == "1980-03-04"


def test_retried_check_in_is_one_visit(env):
    ident = new_identity()
    env.book(ident, "NGOAI")
    cid = str(uuid.uuid4())
    first = env.check_in(ident, checkin_id=cid)
    again = env.check_in(ident, checkin_id=cid)  # the kiosk did not know the first one landed
    retried = env.check_in(ident, checkin_id=cid, retry=True)
    assert again.ticket.label == first.ticket.label == retried.ticket.label
    assert again.encounter_id == first.encounter_id == retried.encounter_id
    assert first.ticket.booked
    env.the_visit(cid, first.ticket)
    walk = new_identity()
    cid = str(uuid.uuid4())
    a = env.check_in(walk, "RHM", checkin_id=cid)
    b = env.check_in(walk, "RHM", checkin_id=cid)  # a new patient: created once
    assert a.ticket.label == b.ticket.label
    env.the_visit(cid, a.ticket)
    assert len(env.patients(walk.citizen_id)) == 1
    following = env.check_in(new_identity(), "RHM")
    assert following.ticket.number == a.ticket.number + 1  # the retry burnt no number


@pytest.mark.parametrize("kind", ["booked", "new"])
def test_lost_reply_on_the_write_then_retry(env, kind):
    """The HIS records the visit but its answer never arrives: the kiosk looks
    the check-in up instead of writing again, and prints the recorded number."""
    ident = new_identity()
    if kind == "booked":
        appt = env.book(ident, "NHI")
    write = "POST /$" if env.his.capabilities.has("transaction") else "POST /Encounter$"
    env.sandbox.reset_stats()
    env.sandbox.add_fault(match=write, action="lose_reply")
    cid = str(uuid.uuid4())
    result = env.check_in(ident, None if kind == "booked" else "NHI", checkin_id=cid)
    assert env.sandbox.stats()["faultsFired"].get("lose_reply") == 1
    env.the_visit(cid, result.ticket)
    again = env.check_in(ident, None if kind == "booked" else "NHI", checkin_id=cid, retry=True)
    assert again.ticket.label == result.ticket.label
    env.the_visit(cid, again.ticket)
    if kind == "booked":
        assert result.ticket.booked and env.get(f"Appointment/{appt}")["status"] == "arrived"
    else:
        assert len(env.patients(ident.citizen_id)) == 1


def test_offline_then_sync(env):
    """HIS down: an offline ticket; HIS back: the outbox delivers it once, with
    the offline ticket's number on the visit."""
    from kiosk.domain import CheckInRequest

    parts = env.offline_parts()
    try:
        assert parts.parts.prober.refresh_reference(force=True)  # the kiosk has been online once
        env.sandbox.set_faults(fail_status=503, fail_count=10_000)
        ident = new_identity()
        request = CheckInRequest(str(uuid.uuid4()), ident, "SAN")
        result = parts.handler.check_in(request)
        assert result.mode == "offline" and result.ticket.offline and result.ticket.label.startswith("K7-")
        env.sandbox.set_faults()
        parts.parts.monitor.report_ok("test: HIS back")
        report = parts.parts.sender.sync_now(max_seconds=60)
        assert report.delivered + report.already_in_his == 1 and report.dead == 0
        env.the_visit(request.checkin_id, result.ticket)
        again = parts.parts.sender.sync_now(max_seconds=10)
        assert again.delivered == 0 and len(env.visits(request.checkin_id)) == 1
    finally:
        parts.close()


def test_waiting_counts_see_todays_arrivals(env):
    before = env.his.waiting_counts(env.clock.now().date()).get("TIM", 0)
    env.check_in(new_identity(), "TIM")
    assert env.his.waiting_counts(env.clock.now().date())["TIM"] == before + 1


@pytest.mark.parametrize("profile, queue", REFUSED, ids=[f"{p}-{q}" for p, q in REFUSED])
def test_counter_is_refused_without_versions(profile, queue, tmp_path):
    e = Env(profile, queue, tmp_path)
    try:
        with pytest.raises(ConfigError, match='his.queue_numbers = "his"'):
            e.check_in(new_identity(), "NOI")
        assert e.search("Basic", {}) == []  # refused before writing anything
        from fhir_his.doctor_checks import check_his

        caps = {c.name: c for c in check_his(e.config)}["his.capabilities"]
        assert caps.status == "FAIL" and "queue_numbers" in caps.detail
    finally:
        e.close()
