"""The hospital patient code (mã bệnh nhân) against the real sandbox HIS: the
new His port method, who a code belongs to, and `kiosk checkin --patient-code`."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fhir_his.his import FhirHis
from kiosk.clock import SystemClock
from kiosk.demo_data import demo_patient_code, demo_person
from kiosk.domain import Assurance, IdentitySource
from kiosk.errors import PatientAmbiguous, PatientCodeNotUsable
from kiosk.identity.patient_code import PatientCodeRules, patient_for_code
from tests.helpers import make_config

pytestmark = pytest.mark.integration


@pytest.fixture
def sandbox(fresh_sandbox):
    return fresh_sandbox


@pytest.fixture
def his(sandbox):
    h = FhirHis(make_config(sandbox.base_url))
    yield h
    h.close()


def test_code_finds_the_patient_and_todays_appointment_in_one_round_trip(sandbox, his):
    hung = demo_person("hung")
    his.list_departments()  # reference data, cached by the adapter as at a running kiosk
    sandbox.reset_stats()
    match = patient_for_code(his, demo_patient_code(hung), SystemClock().now())
    ident = match.identity
    assert ident.citizen_id == hung["citizen_id"] and ident.full_name == hung["full_name"]
    assert ident.source is IdentitySource.PATIENT_CODE and ident.assurance is Assurance.TYPED
    [patient] = match.lookup.patients
    [appt] = match.lookup.appointments[patient.id]
    assert appt.department_code == "TIM" and appt.room_code == "P203"
    assert sandbox.stats()["requests"] == 1  # one search: the patient with their appointments


def test_the_code_singles_out_one_of_two_records_sharing_a_cccd(his):
    minh = demo_person("minh")  # two records with one CCCD: the CCCD alone is ambiguous
    with pytest.raises(PatientAmbiguous):
        from kiosk.checkin.visit_rules import choose_patient
        choose_patient(his.lookup_patient(minh["citizen_id"], SystemClock().now().date()).patients, None)
    match = patient_for_code(his, demo_patient_code(minh, "-dup"), SystemClock().now())
    assert match.identity.birth_date.isoformat() == minh["duplicate_record_birth_date"]


def test_unknown_code_is_not_usable_and_says_what_to_do(his):
    with pytest.raises(PatientCodeNotUsable) as caught:
        patient_for_code(his, "BN-999999", SystemClock().now())
    assert caught.value.patient_message_key == "error.patient_code_not_found"
    assert "999999" not in str(caught.value)


def test_the_pattern_tells_patient_codes_from_other_codes():
    rules = PatientCodeRules(make_config().camera.patient_code_pattern, "BN-")
    assert rules.from_scan("BN-012345") == "BN-012345" and rules.from_scan(" BN-005555-DUP\r\n") == "BN-005555-DUP"
    assert rules.from_scan("LH2611252345") is None and rules.from_scan("https://x.vn/BN-012345") is None
    assert rules.from_digits("012345") == "BN-012345"
    assert rules.from_digits("12") is None and rules.from_digits("01234x") is None


def test_cli_checkin_by_patient_code(sandbox, tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[his]\nbase_url = "{sandbox.base_url}"\n', encoding="utf-8")
    base = [sys.executable, "-m", "app", "checkin", "--config", str(cfg), "--json"]
    booked = json.loads(subprocess.run(base + ["--patient-code", demo_patient_code(demo_person("an"))],
                                       check=True, capture_output=True, text=True).stdout)
    assert booked["ticket"]["booked"] and booked["ticket"]["department"] == "NOI" and booked["appointment"]["id"]
    assert booked["ticket"]["masked_name"] == "NGUYỄN V** AN"
    walk = json.loads(subprocess.run(base + ["--patient-code", demo_patient_code(demo_person("ngoc")),
                                             "--department", "MAT"], check=True, capture_output=True,
                                     text=True).stdout)
    assert not walk["ticket"]["booked"] and walk["ticket"]["department"] == "MAT"
    missing = subprocess.run(base + ["--patient-code", "BN-999999"], capture_output=True, text=True)
    assert missing.returncode == 1 and "Không tìm thấy bệnh nhân có mã này" in missing.stderr
    assert "Traceback" not in missing.stderr
