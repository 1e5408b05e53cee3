"""The default (honest) profile: Prefer honoured, search links list what was
processed, and the CapabilityStatement says so."""
from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.sandbox.conftest import create_entry, patient

pytestmark = pytest.mark.integration


def _params(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


def test_create_answers_representation_by_default_with_location_etag_last_modified(fhir):
    r = fhir.post("Patient", patient("H-1"))
    assert r.status_code == 201
    body = r.json()
    vid = body["meta"]["versionId"]
    assert r.headers["ETag"] == f'W/"{vid}"'
    assert r.headers["Location"] == f"{fhir.base}/Patient/{body['id']}/_history/{vid}"
    assert r.headers["Last-Modified"].endswith("GMT")


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_prefer_return_on_create_and_update(fhir, method):
    def write(prefer):
        if method == "POST":
            return fhir.post("Patient", patient(uuid.uuid4().hex), prefer=prefer)
        existing = fhir.post("Patient", patient(uuid.uuid4().hex)).json()
        return fhir.put(f"Patient/{existing['id']}", dict(existing, active=True), prefer=prefer)

    status = 201 if method == "POST" else 200
    minimal = write("return=minimal")
    assert minimal.status_code == status and minimal.content == b""
    assert minimal.headers["Location"] and minimal.headers["ETag"] and minimal.headers["Last-Modified"]
    representation = write("return=representation")
    assert representation.status_code == status and representation.json()["resourceType"] == "Patient"
    outcome = write("return=OperationOutcome")
    assert outcome.status_code == status and outcome.json()["resourceType"] == "OperationOutcome"
    assert outcome.json()["issue"][0]["severity"] == "information"


def test_prefer_return_in_transactions(fhir):
    def tx(prefer=None):
        tag = uuid.uuid4().hex
        headers = {"prefer": prefer} if prefer else {}
        r = fhir.bundle([create_entry(patient(tag), f"identifier=urn:test:pid|{tag}")], **headers)
        assert r.status_code == 200
        return r.json()["entry"][0]

    default = tx()
    assert default["resource"]["resourceType"] == "Patient"
    assert default["response"]["status"] == "201 Created"
    rid, vid = default["resource"]["id"], default["resource"]["meta"]["versionId"]
    assert default["response"]["location"] == f"Patient/{rid}/_history/{vid}"
    assert default["response"]["etag"] == f'W/"{vid}"' and default["response"]["lastModified"]
    minimal = tx("return=minimal")
    assert "resource" not in minimal and set(minimal["response"]) == {"status", "location", "etag", "lastModified"}
    outcome = tx("return=OperationOutcome")
    assert "resource" not in outcome and outcome["response"]["outcome"]["resourceType"] == "OperationOutcome"


def test_update_as_create_answers_201(fhir):
    rid = str(uuid.uuid4())
    assert fhir.put(f"Patient/{rid}", patient("UC", id=rid)).status_code == 201
    assert fhir.put(f"Patient/{rid}", patient("UC", id=rid, active=True)).status_code == 200
    other, tag = str(uuid.uuid4()), uuid.uuid4().hex
    fhir.post("Patient", patient(tag))
    entries = [{"resource": patient("UC2", id=other), "request": {"method": "PUT", "url": f"Patient/{other}"}},
               {"resource": patient(tag, active=True), "request": {"method": "PUT", "url": f"Patient?identifier=urn:test:pid|{tag}"}}]
    r = fhir.bundle(entries).json()
    assert [e["response"]["status"] for e in r["entry"]] == ["201 Created", "200 OK"]


def test_json_patch_with_test_op(fhir):
    pat = fhir.post("Patient", patient(uuid.uuid4().hex, active=True)).json()
    failed = fhir.patch(f"Patient/{pat['id']}", [{"op": "test", "path": "/active", "value": False},
                                                  {"op": "replace", "path": "/active", "value": False}])
    assert failed.status_code == 400
    ok = fhir.patch(f"Patient/{pat['id']}", [{"op": "test", "path": "/active", "value": True},
                                              {"op": "replace", "path": "/active", "value": False}])
    assert ok.status_code == 200 and ok.json()["active"] is False


def test_self_link_lists_only_processed_parameters(fhir):
    tag = uuid.uuid4().hex
    pat = fhir.post("Patient", patient(tag)).json()
    fhir.post("Appointment", {"resourceType": "Appointment", "status": "booked",
                              "participant": [{"actor": {"reference": f"Patient/{pat['id']}"}, "status": "accepted"}]})
    r = fhir.get("Patient", {"identifier": f"urn:test:pid|{tag}", "_revinclude": "Appointment:patient",
                             "shoe-size": "42", "_total": "accurate", "_has:Appointment:patient:status": "booked"})
    assert r.status_code == 200
    body = r.json()
    self_link = next(link["url"] for link in body["link"] if link["relation"] == "self")
    assert self_link.startswith(f"{fhir.base}/Patient?")
    assert _params(self_link) == [("identifier", f"urn:test:pid|{tag}"), ("_revinclude", "Appointment:patient")]
    assert [e["search"]["mode"] for e in body["entry"]] == ["match", "include"]
    assert all(e["fullUrl"] == f"{fhir.base}/{e['resource']['resourceType']}/{e['resource']['id']}"
               for e in body["entry"])


def test_strict_handling_refuses_unsupported_parameters(fhir):
    r = fhir.get("Patient", {"identifier": "urn:test:pid|x", "shoe-size": "42"}, prefer="handling=strict")
    assert r.status_code == 400
    assert "shoe-size" in r.json()["issue"][0]["details"]["text"]
    assert fhir.get("Patient", {"identifier": "urn:test:pid|x"}, prefer="handling=strict").status_code == 200


def test_paging_elements_and_chained_search(fhir):
    tag = uuid.uuid4().hex
    for i in range(5):
        fhir.post("Patient", patient(f"{tag}-{i}", name=[{"family": f"Fam{tag}"}]))
    r = fhir.get("Patient", {"family": f"Fam{tag}", "_count": "2", "_elements": "identifier"}).json()
    assert r["total"] == 5 and len(r["entry"]) == 2
    first = r["entry"][0]["resource"]
    assert "name" not in first and first["identifier"]
    assert {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"} in first["meta"]["tag"]
    seen = [e["resource"]["id"] for e in r["entry"]]
    nxt = next((link["url"] for link in r["link"] if link["relation"] == "next"), None)
    while nxt:
        page = fhir.http.get(nxt, timeout=30).json()
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        nxt = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    assert len(seen) == len(set(seen)) == 5
    pat = fhir.search("Patient", {"identifier": f"urn:test:pid|{tag}-0"})[0]
    fhir.post("Appointment", {"resourceType": "Appointment", "status": "booked",
                              "participant": [{"actor": {"reference": f"Patient/{pat['id']}"}, "status": "accepted"}]})
    chained = fhir.search("Appointment", {"patient.identifier": f"urn:test:pid|{tag}-0"})
    assert len(chained) == 1


def test_capability_statement_of_the_honest_profile(fhir):
    cs = fhir.metadata()
    rest = cs["rest"][0]
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch"}
    assert "security" not in rest
    by_type = {r["type"]: r for r in rest["resource"]}
    pat = by_type["Patient"]
    assert pat["versioning"] == "versioned" and pat["conditionalCreate"] is True
    assert "Appointment:patient" in pat["searchRevInclude"]
    assert {"vread", "history-instance", "patch", "create", "update"} <= {i["code"] for i in pat["interaction"]}
    assert {"name": "identifier", "type": "token"} in pat["searchParam"]
    assert fhir.get(".well-known/smart-configuration").status_code == 404
