"""The BHYT card in the HIS, below the UI: check-ins built by the composition
root against the sandbox HIS and the gateway simulator (both started by the
tests on random loopback ports). The VN Core Coverage and the visit's
reference, idempotent writes (conditional create, compare-and-set on a
changed period, 412 retried), nothing for not found / mismatch / no answer,
the recheck queue for a slow gateway, and offline check-ins carrying the
answer through the outbox."""
from __future__ import annotations

import logging
import uuid
from datetime import date

import pytest

from app.compose import build_kiosk
from app.sandbox import SandboxHis
from fhir_his.client import FhirClient
from fhir_his.coverage import PRIMARY_CARE_FACILITY, PROFILE, coverage_of
from fhir_his.mapping import extensions
from kiosk.demo_data import demo_person, person_identity
from kiosk.domain import Assurance, CheckInRequest, Identity, IdentitySource, VisitCoverage
from tests.helpers import make_config
from tests.insurance.support import TEST_DOB, holder

pytestmark = pytest.mark.integration
THIS_YEAR = date.today().year


@pytest.fixture(scope="module")
def his():
    with SandboxHis(port=0) as sandbox:
        yield sandbox


@pytest.fixture
def kiosk_for(his, simulator, tmp_path):
    """kiosk_for(**insurance overrides) -> services built by the composition root (no background threads)."""
    made = []

    def make(sim=None, **overrides):
        config = make_config(his.base_url, kiosk={"data_dir": str(tmp_path / f"data{len(made)}"),
                                                  "repeat_visits": "allow"},  # the same people, test after test
                             offline={"go_offline_after_s": 5.0},
                             insurance=(sim or simulator).insurance_settings(tmp_path, **overrides))
        services = build_kiosk(config, with_devices=False, background=False)
        made.append(services)
        return services

    yield make
    for services in made:
        services.close()


def check_in(services, identity, *, department="NOI", fee_paying=False, check=None, ask=True):
    """The check-in the journey makes: the card check's answer in the request."""
    if ask and check is None:
        check = services.insurance.check(identity.citizen_id, identity.full_name, identity.birth_date)
    coverage = VisitCoverage(check, identity.citizen_id, identity.full_name, identity.birth_date, fee_paying)
    request = CheckInRequest(uuid.uuid4().hex, identity, department_code=department, coverage=coverage)
    return services.checkin.check_in(request)


def coverages(services, card: str) -> list[dict]:
    found, _ = FhirClient(services.config.his).search("Coverage", {"identifier": f"{services.config.his.bhyt_system}|{card}"})
    return found


def encounter(services, encounter_id: str) -> dict:
    return FhirClient(services.config.his).read("Encounter", encounter_id).body


def test_a_valid_card_is_one_vn_core_coverage_referenced_by_the_visit_and_reused_by_the_next(kiosk_for):
    services = kiosk_for()
    an = person_identity(demo_person("an"))
    first = check_in(services, an)
    assert first.mode == "online" and first.ticket.insurance_status == "valid"
    [cov] = coverages(services, "DN4272793012345")
    his = services.config.his
    assert cov["meta"]["profile"] == [PROFILE] and cov["status"] == "active"
    assert cov["beneficiary"]["reference"] == f"Patient/{first.patient_id}"
    assert cov["period"] == {"start": f"{THIS_YEAR}-01-01", "end": f"{THIS_YEAR}-12-31"}
    assert cov["type"]["coding"][0]["code"] == "PUBLICPOL"
    assert cov["payor"][0]["identifier"] == {"system": his.payor_system, "value": "BHXH"}
    ext = {e["url"]: e for e in cov["extension"]}
    assert ext[PRIMARY_CARE_FACILITY]["valueReference"]["identifier"] == {"system": his.facility_system,
                                                                          "value": "27001"}
    assert ext[extensions(his).bhyt_five_years_from]["valueDate"] == "2018-01-01"
    assert coverage_of(encounter(services, first.encounter_id), his) == cov["id"]
    second = check_in(services, an, department="TIM")  # a second visit of the same patient
    [again] = coverages(services, "DN4272793012345")
    assert again["id"] == cov["id"] and again["meta"]["versionId"] == cov["meta"]["versionId"]  # not rewritten
    assert coverage_of(encounter(services, second.encounter_id), his) == cov["id"]


@pytest.mark.parametrize("code", ["003", "004"])
def test_a_new_card_records_the_new_card_s_number_and_dates(kiosk_for, code):
    services = kiosk_for()
    card, name, born = holder(code)
    person = Identity(card, IdentitySource.CCCD_QR, Assurance.QR, full_name=name, birth_date=born)
    result = check_in(services, person)
    assert result.ticket.insurance_status == "new_card"
    new_number = f"DN4{card[2:4]}{card[-10:]}"
    [cov] = coverages(services, new_number)
    assert cov["period"] == {"start": f"{THIS_YEAR}-01-01", "end": f"{THIS_YEAR + 1}-12-31"}
    assert coverages(services, f"GD4{card[2:4]}{card[-10:]}") == []  # the old card is not recorded
    assert coverage_of(encounter(services, result.encounter_id), services.config.his) == cov["id"]


def test_an_expired_card_on_a_fee_paying_visit_is_recorded_cancelled_and_not_billed(kiosk_for):
    services = kiosk_for(on_invalid="fee")
    nhung = person_identity(demo_person("nhung"))
    result = check_in(services, nhung, department="SAN", fee_paying=True)
    assert result.ticket.insurance_status == "fee"
    [cov] = coverages(services, "SV4012799001122")
    assert cov["status"] == "cancelled" and cov["period"]["end"] == f"{THIS_YEAR - 1}-12-31"
    assert coverage_of(encounter(services, result.encounter_id), services.config.his) is None


def test_another_facility_is_recorded_with_that_facility(kiosk_for):
    services = kiosk_for()
    result = check_in(services, person_identity(demo_person("ngoc")))
    assert result.ticket.insurance_status == "valid_elsewhere"
    [cov] = coverages(services, "GD4272785004321")
    facility = next(e for e in cov["extension"] if e["url"] == PRIMARY_CARE_FACILITY)
    assert facility["valueReference"]["identifier"]["value"] == "01009"
    assert coverage_of(encounter(services, result.encounter_id), services.config.his) == cov["id"]


def test_a_changed_period_updates_the_coverage_by_compare_and_set_even_after_a_conflict(kiosk_for, his):
    services = kiosk_for()
    linh = person_identity(demo_person("linh"))
    client = FhirClient(services.config.his)
    patient, _ = client.search("Patient", {"identifier": f"{services.config.his.cccd_system}|{linh.citizen_id}"})
    old = client.create({"resourceType": "Coverage", "status": "active",
                         "identifier": [{"system": services.config.his.bhyt_system, "value": "TE1272721009876"}],
                         "beneficiary": {"reference": f"Patient/{patient[0]['id']}"},
                         "payor": [{"display": "BHXH"}],
                         "period": {"start": f"{THIS_YEAR - 1}-01-01", "end": f"{THIS_YEAR - 1}-12-31"}}).body
    his.add_fault(match=r"PUT /Coverage/", action="status:412")  # another writer got there first, once
    try:
        result = check_in(services, linh, department="NHI")
    finally:
        his.clear_faults()
    [cov] = coverages(services, "TE1272721009876")
    assert cov["id"] == old["id"] and cov["meta"]["versionId"] != old["meta"]["versionId"]
    assert cov["period"] == {"start": f"{THIS_YEAR}-01-01", "end": f"{THIS_YEAR}-12-31"}
    assert cov["payor"] == [{"display": "BHXH"}]  # what the HIS had is kept; only status and period change
    assert coverage_of(encounter(services, result.encounter_id), services.config.his) == cov["id"]


def test_nothing_is_written_for_no_card_a_mismatch_or_no_answer(kiosk_for, his):
    services = kiosk_for()
    before = his.stats()["byResource"].get("POST Coverage", 0)
    huong = person_identity(demo_person("huong"))  # no BHYT card: 050
    assert check_in(services, huong).ticket.insurance_status == "not_found"
    card, name, _ = holder("070")
    wrong_dob = Identity(card, IdentitySource.CCCD_QR, Assurance.QR, full_name=name, birth_date=date(1981, 1, 1))
    assert check_in(services, wrong_dob).ticket.insurance_status == "mismatch"
    minh = person_identity(demo_person("minh"))
    result = check_in(services, minh, check=None, ask=False)  # no answer came in time
    assert result.ticket.insurance_status == "unchecked"
    assert his.stats()["byResource"].get("POST Coverage", 0) == before
    assert services.outbox.insurance_backlog() == 1  # the unanswered check waits in the recheck queue


def test_a_check_too_slow_for_the_patient_is_made_later_and_its_coverage_written_then(kiosk_for, fresh_simulator):
    services = kiosk_for(fresh_simulator, timeout_s=1.0)
    fresh_simulator.mode(slow_s=5.0)
    hung = person_identity(demo_person("hung"))
    check = services.insurance.check(hung.citizen_id, hung.full_name, hung.birth_date)
    assert check.status.value == "unavailable"  # answered by the adapter at its timeout, not by the gateway
    result = check_in(services, hung, department="TIM", check=check)
    assert result.ticket.insurance_status == "unchecked"
    assert coverages(services, "HT3272748000777") == []
    parts = services.outbox
    assert parts.insurance_sender.deliver_now()["failed"] == 1  # still slow: backs off
    fresh_simulator.mode()
    parts.insurance.retry(parts.insurance_entries()[0]["id"])
    assert parts.insurance_sender.deliver_now()["written"] == 1
    [cov] = coverages(services, "HT3272748000777")
    assert coverage_of(encounter(services, result.encounter_id), services.config.his) == cov["id"]
    [entry] = parts.insurance_entries()
    assert entry["state"] == "done" and "visit billed" in entry["outcome"]


def test_an_offline_check_in_carries_the_answer_and_the_sync_writes_the_coverage_once(kiosk_for, his, caplog):
    services = kiosk_for()
    card, name, born = holder("000")
    person = Identity(card, IdentitySource.CCCD_QR, Assurance.QR, full_name=name, birth_date=born)
    check = services.insurance.check(card, name, born)
    assert services.outbox.prober.refresh_reference(force=True)  # departments cached while online
    caplog.set_level(logging.DEBUG)
    his.set_faults(fail_status=503, fail_count=1_000_000)
    try:
        result = check_in(services, person, check=check)
    finally:
        his.set_faults()
    assert result.mode == "offline" and result.ticket.insurance_status == "valid"
    number = f"GD4{card[2:4]}{card[-10:]}"
    assert coverages(services, number) == []
    parts = services.outbox
    parts.monitor.report_ok("test: the HIS is back")
    report = parts.sender.sync_now()
    assert report.delivered == 1
    [cov] = coverages(services, number)
    [visit] = [v for v in parts.store.entries() if v["checkin_id"] == result.ticket.reference]
    assert coverage_of(encounter(services, visit["his_encounter_id"]), services.config.his) == cov["id"]
    # the same entry delivered again (as after a lost reply): the visit is found, the Coverage is not rewritten
    with parts.database.write() as conn:
        conn.execute("UPDATE outbox SET state = 'pending', next_attempt_at = 0 WHERE checkin_id = ?",
                     (result.ticket.reference,))
    assert parts.sender.sync_now().already_in_his == 1
    [again] = coverages(services, number)
    assert again["meta"]["versionId"] == cov["meta"]["versionId"]
    own = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records
                    if r.name.split(".")[0] in ("kiosk", "offline_cache", "fhir_his", "app"))
    assert "check-in queued offline" in own and "coverage recorded" in own
    for secret in (card, card[-10:], f"GD4{card[2:4]}{card[-10:]}", name, born.strftime("%d/%m/%Y"),
                   TEST_DOB.isoformat()):
        assert secret not in own


def test_a_coverage_recorded_for_another_patient_is_left_alone_and_becomes_a_dead_letter(kiosk_for):
    services = kiosk_for()
    client = FhirClient(services.config.his)
    card, name, born = holder("001")
    client.create({"resourceType": "Coverage", "status": "active", "beneficiary": {"reference": "Patient/someone-else"},
                   "identifier": [{"system": services.config.his.bhyt_system, "value": f"GD4{card[2:4]}{card[-10:]}"}],
                   "payor": [{"display": "BHXH"}]})
    result = check_in(services, Identity(card, IdentitySource.CCCD_QR, Assurance.QR, full_name=name, birth_date=born))
    assert result.mode == "online" and result.ticket.insurance_status == "valid"  # the patient is not held up
    assert coverage_of(encounter(services, result.encounter_id), services.config.his) is None
    parts = services.outbox
    assert parts.insurance_sender.deliver_now()["dead"] == 1
    [entry] = parts.insurance_entries()
    assert entry["state"] == "dead" and "CoverageOfAnotherPatient" in entry["last_error"]
    assert card not in entry["last_error"]



@pytest.mark.parametrize("profile", ["minimal,create-200", "no-versioning,no-transaction"])
def test_coverage_is_written_the_same_on_production_like_servers(simulator, tmp_path, profile):
    """No bodies, a matched create answering 200 with nothing; no versions (a JSON Patch with tests instead of
    If-Match) and no transactions: the Coverage is found, created once, its changed period written over what
    was read, and the visit references it."""
    numbers = "his" if "no-versioning" in profile else None  # no versions: the HIS numbers the visits
    with SandboxHis(port=0, profile=profile, queue_numbers=numbers) as sandbox:
        config = make_config(sandbox.base_url, kiosk={"data_dir": str(tmp_path / "data"), "repeat_visits": "allow"},
                             his={"queue_numbers": numbers or "counter"},
                             insurance=simulator.insurance_settings(tmp_path))
        services = build_kiosk(config, with_devices=False, background=False)
        try:
            client = FhirClient(config.his)
            an = person_identity(demo_person("an"))
            [patient], _ = client.search("Patient", {"identifier": f"{config.his.cccd_system}|{an.citizen_id}"})
            client.create({"resourceType": "Coverage", "status": "active",
                           "identifier": [{"system": config.his.bhyt_system, "value": "DN4272793012345"}],
                           "beneficiary": {"reference": f"Patient/{patient['id']}"}, "payor": [{"display": "BHXH"}],
                           "period": {"start": f"{THIS_YEAR - 1}-01-01", "end": f"{THIS_YEAR - 1}-12-31"}})
            first = check_in(services, an)
            second = check_in(services, an, department="TIM")
            [cov] = coverages(services, "DN4272793012345")
            assert cov["period"]["end"] == f"{THIS_YEAR}-12-31" and cov["status"] == "active"
            assert coverage_of(encounter(services, first.encounter_id), config.his) == cov["id"]
            assert coverage_of(encounter(services, second.encounter_id), config.his) == cov["id"]
            linh = person_identity(demo_person("linh"))
            third = check_in(services, linh, department="NHI")  # created on a server that answers without bodies
            [new] = coverages(services, "TE1272721009876")
            assert coverage_of(encounter(services, third.encounter_id), config.his) == new["id"]
            assert services.outbox.insurance_backlog() == 0  # every write went through with the visit
        finally:
            services.close()
