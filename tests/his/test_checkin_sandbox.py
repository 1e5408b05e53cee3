"""Check-in against the real sandbox HIS (Medplum FHIR engine over HTTP)."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import date

import pytest
import requests

from fhir_his.his import FhirHis
from fhir_his.mapping import extensions
from kiosk.checkin.online import CheckInService
from kiosk.clock import SystemClock
from kiosk.config.loader import HisSection
from kiosk.demo_data import demo_person, person_identity
from kiosk.domain import Assurance, Identity, IdentitySource
from kiosk.errors import HisUnavailable, PatientAmbiguous
from tests.helpers import free_port, make_config, request_for

pytestmark = pytest.mark.integration


@pytest.fixture
def sandbox(fresh_sandbox):
    return fresh_sandbox


@pytest.fixture
def service(sandbox):
    cfg = make_config(sandbox.base_url)
    return CheckInService(FhirHis(cfg), SystemClock(), cfg)


def fhir_get(sandbox, path, **params):
    return requests.get(f"{sandbox.base_url}/{path}", params=params, timeout=10).json()


def encounters_for(sandbox, citizen_id):
    patients = fhir_get(sandbox, "Patient", identifier=f"http://fhir.hl7.org.vn/core/sid/cccd|{citizen_id}")
    ids = [e["resource"]["id"] for e in patients.get("entry", [])]
    out = []
    for pid in ids:
        out += [e["resource"] for e in fhir_get(sandbox, "Encounter", subject=f"Patient/{pid}").get("entry", [])]
    return ids, out


def test_booked_patient_appointment_marked_arrived(sandbox, service):
    result = service.check_in(request_for(person_identity(demo_person("an"))))
    assert result.ticket.booked and result.appointment_id
    appt = fhir_get(sandbox, f"Appointment/{result.appointment_id}")
    assert appt["status"] == "arrived"
    enc = fhir_get(sandbox, f"Encounter/{result.encounter_id}")
    assert enc["status"] == "arrived" and enc["class"]["code"] == "AMB"
    assert enc["appointment"][0]["reference"] == f"Appointment/{result.appointment_id}"
    assert enc["location"][0]["location"]["display"] == "Phòng khám Nội 1"
    assert enc["subject"]["reference"] == f"Patient/{result.patient_id}"
    assert {"url": extensions(HisSection()).queue_label, "valueString": result.ticket.label} in enc["extension"]
    # a second check-in the same day in that department gets the same number again (issue 24) ...
    again = service.check_in(request_for(person_identity(demo_person("an")), department="NOI"))
    assert again.repeat and again.encounter_id == result.encounter_id and again.ticket.label == result.ticket.label
    # ... in another department it is a walk-in: the appointment is no longer "booked"
    other = service.check_in(request_for(person_identity(demo_person("an")), department="MAT"))
    assert not other.ticket.booked and not other.repeat


def test_existing_patient_walk_in(sandbox, service):
    result = service.check_in(request_for(person_identity(demo_person("ngoc")), department="NHI"))
    ids, encounters = encounters_for(sandbox, demo_person("ngoc")["citizen_id"])
    assert ids == [result.patient_id] and not result.patient_created
    assert [e["id"] for e in encounters] == [result.encounter_id]
    assert result.ticket.room_code in ("P105", "P106") and result.appointment_id is None


def test_new_patient_is_created_from_card_data(sandbox, service):
    person = demo_person("huong")
    result = service.check_in(request_for(person_identity(person), department="MAT"))
    assert result.patient_created
    patient = fhir_get(sandbox, f"Patient/{result.patient_id}")
    assert patient["name"][0]["text"] == "VÕ THỊ THU HƯƠNG"
    assert patient["birthDate"] == "2000-05-20" and patient["gender"] == "female"
    assert patient["identifier"][0] == {"system": "http://fhir.hl7.org.vn/core/sid/cccd",
                                        "value": person["citizen_id"]}


def test_ambiguous_patient_is_refused_and_disambiguated_by_birth_date(sandbox, service):
    typed = Identity(citizen_id=demo_person("minh")["citizen_id"], source=IdentitySource.TYPED,
                     assurance=Assurance.TYPED)
    with pytest.raises(PatientAmbiguous):
        service.check_in(request_for(typed, department="NOI"))
    ok = service.check_in(request_for(person_identity(demo_person("minh")), department="NOI"))
    assert fhir_get(sandbox, f"Patient/{ok.patient_id}")["birthDate"] == "1990-02-14"


def test_retried_check_in_creates_no_duplicates(sandbox, service):
    ident = person_identity(demo_person("huong"))
    req = request_for(ident, department="RHM")
    first = service.check_in(req)
    second = service.check_in(req)  # e.g. the response was lost and the kiosk retried
    ids, encounters = encounters_for(sandbox, ident.citizen_id)
    assert len(ids) == 1 and len(encounters) == 1
    assert second.encounter_id == first.encounter_id and second.ticket.label == first.ticket.label
    # a retry of a booked check-in whose appointment already became "arrived" converges too
    booked = request_for(person_identity(demo_person("nhung")))
    a = service.check_in(booked)
    b = service.check_in(replace(booked, is_retry=True))
    assert a.encounter_id == b.encounter_id and b.ticket.label == a.ticket.label
    assert b.ticket.booked and b.ticket.room_code == "P301"
    ids, encounters = encounters_for(sandbox, demo_person("nhung")["citizen_id"])
    assert len(encounters) == 1


def test_transient_5xx_on_safe_requests_is_retried(sandbox, service):
    sandbox.set_faults(fail_status=503, fail_count=1)
    result = service.check_in(request_for(person_identity(demo_person("ngoc")), department="TMH"))
    assert result.encounter_id


def test_his_down_gives_a_typed_error():
    cfg = make_config(f"http://127.0.0.1:{free_port()}/fhir/R4")
    service = CheckInService(FhirHis(cfg), SystemClock(), cfg)
    with pytest.raises(HisUnavailable) as exc:
        service.check_in(request_for(person_identity(demo_person("an"))))
    assert exc.value.patient_message_key == "error.his_unavailable"
    assert demo_person("an")["citizen_id"] not in str(exc.value)


def test_his_persistent_5xx_gives_unavailable(sandbox, service):
    sandbox.set_faults(fail_status=502, fail_count=50)
    with pytest.raises(HisUnavailable):
        service.check_in(request_for(person_identity(demo_person("ngoc")), department="NOI"))


def test_waiting_counts_per_department(sandbox, service):
    for key in ("ngoc", "huong"):
        service.check_in(request_for(person_identity(demo_person(key)), department="NGOAI"))
    assert service.his.waiting_counts(SystemClock().now().date())["NGOAI"] == 2


def test_cli_checkin_json_booked_and_walk_in(sandbox, tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[his]\nbase_url = "{sandbox.base_url}"\n', encoding="utf-8")
    base = [sys.executable, "-m", "app", "checkin", "--config", str(cfg), "--json"]
    booked = json.loads(subprocess.run(base + ["--id", demo_person("hung")["citizen_id"]],
                                       check=True, capture_output=True, text=True).stdout)
    assert booked["mode"] == "online" and booked["appointment"]["id"]
    assert booked["ticket"]["department"] == "TIM" and booked["ticket"]["room"] == "P203"
    assert booked["patient"]["id"] and booked["encounter"]["id"]
    walk = json.loads(subprocess.run(base + ["--id", "079200003333", "--name", "VÕ THỊ THU HƯƠNG",
                                             "--dob", "2000-05-20", "--sex", "Nữ", "--department", "SAN"],
                                     check=True, capture_output=True, text=True).stdout)
    assert walk["appointment"]["id"] is None and walk["ticket"]["department"] == "SAN"
    assert isinstance(walk["ticket"]["number"], int)
    bad = subprocess.run(base + ["--id", "079200003333"], capture_output=True, text=True)
    assert bad.returncode == 1 and "chọn chuyên khoa" in bad.stderr


def test_config_check_cli(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[printer]\ndot_width = 384\n', encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text('[printer]\ndot_width = 400\n', encoding="utf-8")
    run = lambda f: subprocess.run([sys.executable, "-m", "app", "config", "check", str(f)],
                                   capture_output=True, text=True)
    assert run(good).returncode == 0
    r = run(bad)
    assert r.returncode == 1 and "printer.dot_width: expected one of 384, 512, 576, got 400" in r.stderr


def test_today_is_the_hospital_day():
    assert isinstance(SystemClock().now().date(), date)


def test_appointment_qr_booking_code_gives_the_patient_and_checks_in(sandbox, service):
    from datetime import timedelta

    from devices.camera.samples import appointment_qr_payload, demo_appointment_code
    from kiosk.checkin.online import identity_for_booking
    from kiosk.errors import BookingNotUsable
    from kiosk.identity.qr_payload import AppointmentQr, parse_qr

    now = SystemClock().now()
    today = now.date()
    parsed = parse_qr(appointment_qr_payload(demo_appointment_code(demo_person("hung"), today)),
                      make_config().camera.appointment_pattern)
    assert isinstance(parsed, AppointmentQr)
    ident = identity_for_booking(service.his, parsed.code, now)
    assert ident.citizen_id == demo_person("hung")["citizen_id"] and ident.source == IdentitySource.APPOINTMENT_QR
    result = service.check_in(request_for(ident))
    assert result.ticket.booked and result.ticket.department_code == "TIM"
    with pytest.raises(BookingNotUsable) as exc:  # used: no longer booked
        identity_for_booking(service.his, parsed.code, now)
    assert exc.value.patient_message_key == "error.booking_not_today"
    with pytest.raises(BookingNotUsable):
        identity_for_booking(service.his, "LH0000000000", now)
    with pytest.raises(BookingNotUsable):  # the booking of another day
        code = demo_appointment_code(demo_person("an"), today)
        identity_for_booking(service.his, code, now + timedelta(days=1))
