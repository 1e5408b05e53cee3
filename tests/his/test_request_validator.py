"""The validator of the contract tests catches what it must (it is not vacuous)."""
from __future__ import annotations

import json

import pytest

from tests.his.contract.validate import body_problems, patch_problems, resource_problems

GOOD_ENCOUNTER = {
    "resourceType": "Encounter", "status": "arrived",
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
    "identifier": [{"system": "https://fhir.benhvien.vn/kiosk/sid/checkin-id", "value": "x"}],
    "subject": {"reference": "urn:uuid:6a2f41a3-c54c-4c6c-9d6a-1b1c1a2b3c4d"},
    "extension": [{"url": "https://fhir.benhvien.vn/kiosk/StructureDefinition/queue-label", "valueString": "001"}],
}


def tx(*entries):
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


def entry(resource, full_url="urn:uuid:6a2f41a3-c54c-4c6c-9d6a-1b1c1a2b3c4e", **request):
    return {"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": "Encounter", **request}}


def test_a_good_encounter_and_transaction_pass():
    assert resource_problems(GOOD_ENCOUNTER) == []
    assert resource_problems(tx(entry(GOOD_ENCOUNTER))) == []


@pytest.mark.parametrize("change, words", [
    (lambda e: e["class"].update(display=""), "empty element"),
    (lambda e: e.update(location=[]), "empty element"),
    (lambda e: e.update(status="waiting"), "not an R4 Encounter status"),
    (lambda e: e["subject"].update(reference="Patient 12"), "is not Type/id"),
    (lambda e: e["extension"].append({"url": "urn:kiosk:queue", "valueString": "1"}), "not an absolute URL"),
    (lambda e: e["extension"].append({"url": "https://x.vn/a/b", "valueString": "1",
                                      "extension": [{"url": "y", "valueString": "2"}]}), "ext-1"),
    (lambda e: e["identifier"][0].update(system="kiosk-checkin"), "is not a URL"),
    (lambda e: e.update(period={"start": "yesterday"}), "not a valid R4B Encounter"),
])
def test_each_broken_rule_is_caught(change, words):
    enc = json.loads(json.dumps(GOOD_ENCOUNTER))
    change(enc)
    assert any(words in p for p in resource_problems(enc)), resource_problems(enc)


def test_bundle_rules():
    no_full_url = {k: v for k, v in entry(GOOD_ENCOUNTER).items() if k != "fullUrl"}
    assert any("no fullUrl" in p for p in resource_problems(tx(no_full_url)))
    twice = resource_problems(tx(entry(GOOD_ENCOUNTER), entry(GOOD_ENCOUNTER)))
    assert any("bdl-7" in p for p in twice)
    put = entry({"resourceType": "Appointment", "id": "a1", "status": "arrived", "participant": [
        {"actor": {"reference": "Patient/p1"}, "status": "accepted"}]}, "http://his/fhir/Appointment/a1",
        method="PUT", url="Appointment/a1", ifMatch='W/"None"')
    assert any("ifMatch" in p for p in resource_problems(tx(put)))
    bad_appt = json.loads(json.dumps(put))
    bad_appt["resource"]["status"] = "checked_in"
    bad_appt["request"]["ifMatch"] = 'W/"3"'
    assert any("Appointment status" in p for p in resource_problems(tx(bad_appt)))


def test_patch_and_content_types():
    assert patch_problems([{"op": "test", "path": "/status", "value": "arrived"},
                           {"op": "replace", "path": "/status", "value": "in-progress"}]) == []
    assert patch_problems([{"op": "replace", "path": "/extension", "value": []}]) != []
    assert patch_problems([{"op": "frob", "path": "/a"}]) != []
    assert body_problems("PATCH", "http://h/fhir/Encounter/1", {"Content-Type": "application/json"}, b"[]") != []
    assert body_problems("POST", "http://h/fhir/Encounter", {"Content-Type": "application/fhir+json"}, b"{") != []
