"""Transactions are all-or-nothing; batches are not."""
from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.sandbox.conftest import create_entry, encounter, patient

pytestmark = pytest.mark.integration


def _visit_bundle(tag: str, appointment_id: str, if_match: str) -> list[dict]:
    """Patient (new), Encounter (referring to it), then an Appointment update guarded by If-Match."""
    pat_url = f"urn:uuid:{uuid.uuid4()}"
    return [
        create_entry(patient(f"P-{tag}"), f"identifier=urn:test:pid|P-{tag}", pat_url),
        create_entry(encounter(checkin=f"C-{tag}", subject=pat_url), f"identifier=urn:test:checkin|C-{tag}"),
        {"resource": {"resourceType": "Appointment", "id": appointment_id, "status": "arrived",
                      "participant": [{"status": "accepted"}]},
         "request": {"method": "PUT", "url": f"Appointment/{appointment_id}", "ifMatch": f'W/"{if_match}"'}},
    ]


def _json_patch(ops: list[dict]) -> dict:
    return {"resourceType": "Binary", "contentType": "application/json-patch+json",
            "data": base64.b64encode(json.dumps(ops).encode()).decode()}


def _booked_appointment(fhir) -> dict:
    r = fhir.post("Appointment", {"resourceType": "Appointment", "status": "booked",
                                  "participant": [{"status": "accepted"}]})
    assert r.status_code == 201
    return r.json()


def test_failed_third_entry_leaves_nothing_and_the_corrected_retry_succeeds_once(fhir):
    appt = _booked_appointment(fhir)
    tag = uuid.uuid4().hex[:8]
    failed = fhir.bundle(_visit_bundle(tag, appt["id"], if_match="stale-version"))
    assert failed.status_code == 412
    assert failed.json()["resourceType"] == "OperationOutcome"
    # nothing of the first two entries remains
    assert fhir.search("Patient", {"identifier": f"urn:test:pid|P-{tag}"}) == []
    assert fhir.search("Encounter", {"identifier": f"urn:test:checkin|C-{tag}"}) == []
    assert fhir.get(f"Appointment/{appt['id']}").json()["status"] == "booked"

    corrected = _visit_bundle(tag, appt["id"], if_match=appt["meta"]["versionId"])
    ok = fhir.bundle(corrected)
    assert ok.status_code == 200
    statuses = [e["response"]["status"] for e in ok.json()["entry"]]
    assert statuses == ["201 Created", "201 Created", "200 OK"]
    again = fhir.bundle(_visit_bundle(tag, appt["id"], if_match=ok.json()["entry"][2]["resource"]["meta"]["versionId"]))
    assert [e["response"]["status"] for e in again.json()["entry"]][:2] == ["200 OK", "200 OK"]
    assert len(fhir.search("Patient", {"identifier": f"urn:test:pid|P-{tag}"})) == 1
    encounters = fhir.search("Encounter", {"identifier": f"urn:test:checkin|C-{tag}"})
    assert len(encounters) == 1
    pid = ok.json()["entry"][0]["resource"]["id"]
    assert encounters[0]["subject"]["reference"] == f"Patient/{pid}"


def test_rollback_restores_updated_resources_and_removes_created_ones_from_read_and_history(fhir):
    first = fhir.post("Patient", patient("R-1", active=True)).json()
    other = fhir.post("Patient", patient("R-3", active=True)).json()
    updated = dict(first, active=False, gender="female")
    created_id = str(uuid.uuid4())
    entries = [
        {"resource": updated, "request": {"method": "PUT", "url": f"Patient/{first['id']}"}},
        {"resource": patient("R-2", id=created_id), "request": {"method": "PUT", "url": f"Patient/{created_id}"}},
        create_entry(encounter(), "identifier=urn:test:checkin|x"),
        # processed last (the engine orders deletes, creates, updates, patches): a failing JSON Patch test
        {"resource": _json_patch([{"op": "test", "path": "/active", "value": False}]),
         "request": {"method": "PATCH", "url": f"Patient/{other['id']}"}},
    ]
    r = fhir.bundle(entries)
    assert r.status_code == 400
    back = fhir.get(f"Patient/{first['id']}").json()
    assert back == first  # same content, same version
    history = fhir.get(f"Patient/{first['id']}/_history").json()
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == [first["meta"]["versionId"]]
    assert fhir.get(f"Patient/{created_id}").status_code == 404
    assert fhir.get(f"Patient/{created_id}/_history").status_code == 404
    assert fhir.search("Patient", {"identifier": "urn:test:pid|R-2"}) == []


def test_rolled_back_delete_comes_back(fhir):
    kept = fhir.post("Patient", patient("D-1")).json()
    r = fhir.bundle([
        {"request": {"method": "DELETE", "url": f"Patient/{kept['id']}"}},
        {"resource": {"resourceType": "Patient", "id": "nobody"},
         "request": {"method": "PUT", "url": "Patient/nobody", "ifMatch": 'W/"1"'}},
    ])
    assert r.status_code >= 400
    assert fhir.get(f"Patient/{kept['id']}").json() == kept
    assert [p["id"] for p in fhir.search("Patient", {"identifier": "urn:test:pid|D-1"})] == [kept["id"]]


def test_several_matches_of_a_condition_fail_the_whole_transaction(fhir):
    for _ in range(2):
        fhir.post("Patient", patient("TWIN"))
    tag = uuid.uuid4().hex[:8]
    r = fhir.bundle([
        create_entry(patient(f"T-{tag}"), f"identifier=urn:test:pid|T-{tag}"),
        create_entry(patient("TWIN"), "identifier=urn:test:pid|TWIN"),
    ])
    assert r.status_code == 412
    assert fhir.search("Patient", {"identifier": f"urn:test:pid|T-{tag}"}) == []


def test_batch_is_not_atomic(fhir):
    tag = uuid.uuid4().hex[:8]
    r = fhir.bundle([
        create_entry(patient(f"B-{tag}")),
        {"resource": {"resourceType": "Patient", "id": "nobody"},
         "request": {"method": "PUT", "url": "Patient/nobody", "ifMatch": 'W/"1"'}},
    ], kind="batch")
    assert r.status_code == 200
    body = r.json()
    assert body["type"] == "batch-response"
    assert body["entry"][0]["response"]["status"] == "201 Created"
    assert body["entry"][1]["response"]["status"].startswith("404")
    assert body["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert len(fhir.search("Patient", {"identifier": f"urn:test:pid|B-{tag}"})) == 1
