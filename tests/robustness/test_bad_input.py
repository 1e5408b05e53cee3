"""Bad input at the entry points, as real processes: a clear refusal naming
the field, never a traceback, never a second Patient for the same person."""
from __future__ import annotations

import json
from datetime import date

import pytest

from fhir_his.his import FhirHis
from tests.helpers import make_config
from tests.robustness.cli import assert_no_traceback, kiosk, one_error_line

pytestmark = pytest.mark.integration

ASCII_ID = "079199123456"
ARABIC_INDIC = "".join(chr(0x0660 + int(d)) for d in ASCII_ID)
FULL_WIDTH = "".join(chr(0xFF10 + int(d)) for d in ASCII_ID)


@pytest.fixture
def config(tmp_path, his_sandbox):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n[his]\nbase_url = "{his_sandbox.base_url}"\n',
                    encoding="utf-8")
    return path


def patients_with(his_sandbox, citizen_id: str) -> int:
    his = FhirHis(make_config(his_sandbox.base_url))
    try:
        return len(his.lookup_patient(citizen_id, date.today()).patients)
    finally:
        his.client.close()


def test_other_digit_forms_never_make_a_second_patient(config, his_sandbox):
    for other in (ARABIC_INDIC, FULL_WIDTH, ASCII_ID + "\n"):
        r = kiosk("checkin", "--id", other, "--name", "LÝ THỊ HOA", "--department", "NOI", config=config)
        line = one_error_line(r)
        assert line == "kiosk checkin: --id: expected a 12-digit ID number (12 ASCII digits 0-9, nothing else)"
        assert "Số định danh cần đủ 12 chữ số" in r.stderr  # the patient sentence
    assert patients_with(his_sandbox, ASCII_ID) == 0
    r = kiosk("checkin", "--json", "--id", ASCII_ID, "--name", "LÝ THỊ HOA", "--department", "NOI", config=config)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["patient"]["created"] is True
    for other in (ARABIC_INDIC, FULL_WIDTH):
        one_error_line(kiosk("checkin", "--id", other, "--department", "NOI", config=config))
    assert patients_with(his_sandbox, ASCII_ID) == 1


@pytest.mark.parametrize("option, value, expected", [
    ("--name", "NGUYỄN\x1b[31m VĂN AN", "--name: expected a name of letters"),
    ("--name", "NGUYỄN VĂN AN\x07", "--name: expected a name of letters"),
    ("--name", "AN\x7f", "--name: expected"),
    ("--name", "\u202eNA NÁV NỄYUGN", "--name: expected"),
    ("--name", "A" * 5000, "--name: expected a name of letters (at most 100 characters) of at most 100"),
    ("--dob", "2099-01-01", "--dob: expected a date YYYY-MM-DD between 1900-01-01 and today"),
    ("--dob", "1899-12-31", "--dob: expected a date YYYY-MM-DD between 1900-01-01 and today"),
    ("--dob", "01/02/1990", "--dob: expected a date YYYY-MM-DD between 1900-01-01 and today"),
    ("--address", "x" * 400, "--address: expected an address (at most 300 characters)"),
    ("--sex", "robot", "--sex: expected male or female"),
    ("--checkin-id", "my-retry-1", "--checkin-id: expected a UUID in canonical form"),
    ("--department", "NỘI", "--department: expected a department code"),
])
def test_bad_fields_are_refused_naming_the_option(config, his_sandbox, option, value, expected):
    r = kiosk("checkin", "--id", "079199123457", option, value, "--department", "NOI", config=config) \
        if option != "--department" else kiosk("checkin", "--id", "079199123457", option, value, config=config)
    line = one_error_line(r)
    assert line.startswith("kiosk checkin: " + expected.split(" of at most")[0]), line
    assert value not in r.stderr or len(value) < 3  # the refused value is never echoed
    assert patients_with(his_sandbox, "079199123457") == 0


def test_a_retry_with_the_same_checkin_id_makes_one_visit(config, his_sandbox):
    cid = "5b1f7c2e-8d3a-4f60-9c1e-2a7b6d4e8f01"
    first = kiosk("checkin", "--json", "--id", "079199123458", "--department", "NOI", "--checkin-id", cid,
                  config=config)
    second = kiosk("checkin", "--json", "--id", "079199123458", "--department", "NOI", "--checkin-id", cid,
                   config=config)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert json.loads(first.stdout)["encounter"]["id"] == json.loads(second.stdout)["encounter"]["id"]


def test_read_card_refuses_full_width_can(tmp_path):
    r = kiosk("read-card", "--can", "０１２３４５", "--simulator", "an", env={"KIOSK_CONFIG": ""})
    assert one_error_line(r) == ("kiosk read-card: --can: expected the 6-digit card access number "
                                 "(6 ASCII digits 0-9, nothing else)")
    r = kiosk("read-card", "--mrz", "ＩＤＶＮＭ", "--simulator", "an")
    assert "--mrz: expected" in one_error_line(r)


def test_scan_image_of_a_cccd_qr_with_arabic_indic_digits_is_refused(tmp_path):
    import cv2

    from devices.camera.synthetic import qr_image

    image = tmp_path / "qr.png"
    cv2.imwrite(str(image), qr_image(f"{ARABIC_INDIC}||NGUYỄN VĂN AN|05011993|Nam|Hà Nội|10042021", 8))
    r = kiosk("scan-image", "--json", str(image))
    assert_no_traceback(r)
    code = json.loads(r.stdout)[0]["codes"][0]
    assert code["kind"] == "unknown" and "ID number" in code["error"] and code["message_key"] == "error.qr_invalid"


def test_insurance_check_refuses_a_name_with_escape_sequences():
    r = kiosk("insurance", "check", "--id", ASCII_ID, "--name", "NGUYỄN\x1b[2J VĂN AN", "--dob", "1990-01-01")
    assert one_error_line(r).startswith("kiosk insurance check: --name: expected a name of letters")


def test_checkin_refuses_a_patient_code_in_other_digit_forms(config):
    r = kiosk("checkin", "--patient-code", "BN-٠٠١٢٣٤٥", "--department", "NOI", config=config)
    assert one_error_line(r).startswith("kiosk checkin: --patient-code: expected a patient code")
