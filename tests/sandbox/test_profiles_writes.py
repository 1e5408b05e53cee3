"""Profiles that change what writes answer: minimal, create-200, no-versioning."""
from __future__ import annotations

import uuid

import pytest

from app.sandbox import SandboxHis
from tests.sandbox.conftest import Fhir, create_entry, patient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def servers():
    started = {name: SandboxHis(port=0, seed=False, profile=name).start()
               for name in ("minimal", "create-200", "no-versioning")}
    yield {name: Fhir(s) for name, s in started.items()}
    for s in started.values():
        s.stop()


def _versions_anywhere(node) -> list:
    if isinstance(node, dict):
        found = [node["meta"]["versionId"]] if "versionId" in (node.get("meta") or {}) else []
        return found + [v for value in node.values() for v in _versions_anywhere(value)]
    if isinstance(node, list):
        return [v for value in node for v in _versions_anywhere(value)]
    return []


# -- minimal ---------------------------------------------------------------------
def test_minimal_writes_answer_headers_and_an_empty_body_whatever_prefer_says(servers):
    fhir = servers["minimal"]
    r = fhir.post("Patient", patient("MIN-1"), prefer="return=representation")
    assert r.status_code == 201 and r.content == b""
    location = r.headers["Location"]
    assert location.startswith(f"{fhir.base}/Patient/") and "/_history/" in location
    assert r.headers["ETag"].startswith('W/"') and r.headers["Last-Modified"]
    stored = fhir.http.get(location.split("/_history/")[0], timeout=10).json()
    assert r.headers["ETag"] == f'W/"{stored["meta"]["versionId"]}"'
    upd = fhir.put(f"Patient/{stored['id']}", dict(stored, active=True), prefer="return=OperationOutcome")
    assert upd.status_code == 200 and upd.content == b"" and upd.headers["ETag"] != r.headers["ETag"]
    matched = fhir.post("Patient", patient("MIN-1"), if_none_exist="identifier=urn:test:pid|MIN-1")
    assert matched.status_code == 200 and matched.content == b""
    assert matched.headers["Location"].split("/_history/")[0] == location.split("/_history/")[0]


def test_minimal_transaction_entries_carry_only_response(servers):
    fhir = servers["minimal"]
    tag = uuid.uuid4().hex
    r = fhir.bundle([create_entry(patient(tag), f"identifier=urn:test:pid|{tag}")], prefer="return=representation")
    entry = r.json()["entry"][0]
    assert set(entry) == {"response"}
    assert set(entry["response"]) == {"status", "location", "etag", "lastModified"}
    assert entry["response"]["status"] == "201 Created"
    again = fhir.bundle([create_entry(patient(tag), f"identifier=urn:test:pid|{tag}")]).json()["entry"][0]
    assert set(again) == {"response"} and again["response"]["status"] == "200 OK"
    assert again["response"]["location"] == entry["response"]["location"]


def test_minimal_capability_statement_says_so(servers):
    rest = servers["minimal"].metadata()["rest"][0]
    assert "Prefer: return is ignored" in rest["documentation"]
    assert rest["resource"][0]["versioning"] == "versioned"


# -- create-200 -----------------------------------------------------------------
def test_create_200_matched_conditional_create_has_no_body_and_no_location(servers):
    fhir = servers["create-200"]
    tag = uuid.uuid4().hex
    first = fhir.post("Patient", patient(tag), if_none_exist=f"identifier=urn:test:pid|{tag}")
    assert first.status_code == 201 and first.json()["id"] and first.headers["Location"]
    again = fhir.post("Patient", patient(tag), if_none_exist=f"identifier=urn:test:pid|{tag}",
                      prefer="return=representation")
    assert again.status_code == 200 and again.content == b""
    assert "Location" not in again.headers and "ETag" not in again.headers
    assert len(fhir.search("Patient", {"identifier": f"urn:test:pid|{tag}"})) == 1


def test_create_200_in_a_transaction(servers):
    fhir = servers["create-200"]
    tag = uuid.uuid4().hex
    entries = [create_entry(patient(tag), f"identifier=urn:test:pid|{tag}")]
    created = fhir.bundle(entries).json()["entry"][0]
    assert created["response"]["status"] == "201 Created" and created["resource"]["id"]
    matched = fhir.bundle(entries).json()["entry"][0]
    assert matched == {"response": {"status": "200 OK"}}


def test_create_200_capability_statement_says_so(servers):
    rest = servers["create-200"].metadata()["rest"][0]
    assert "matched answers 200 OK with no body and no Location" in rest["documentation"]


# -- no-versioning ----------------------------------------------------------------
def test_no_versioning_has_no_etag_and_no_version_anywhere(servers):
    fhir = servers["no-versioning"]
    tag = uuid.uuid4().hex
    r = fhir.post("Patient", patient(tag))
    assert r.status_code == 201 and "ETag" not in r.headers
    body = r.json()
    assert "versionId" not in body.get("meta", {}) and r.headers["Last-Modified"]
    assert r.headers["Location"] == f"{fhir.base}/Patient/{body['id']}"
    read = fhir.get(f"Patient/{body['id']}")
    assert "ETag" not in read.headers and _versions_anywhere(read.json()) == []
    search = fhir.get("Patient", {"identifier": f"urn:test:pid|{tag}"}).json()
    assert _versions_anywhere(search) == [] and search["total"] == 1
    tx = fhir.bundle([create_entry(patient(tag + "x"))]).json()
    assert _versions_anywhere(tx) == [] and "etag" not in tx["entry"][0]["response"]
    assert "/_history/" not in tx["entry"][0]["response"]["location"]


def test_no_versioning_refuses_if_match_vread_and_history_but_patches(servers):
    fhir = servers["no-versioning"]
    pat = fhir.post("Patient", patient(uuid.uuid4().hex, active=True)).json()
    for r in (fhir.put(f"Patient/{pat['id']}", dict(pat, active=False), if_match='W/"1"'),
              fhir.patch(f"Patient/{pat['id']}", [{"op": "replace", "path": "/active", "value": False}],
                         if_match='W/"1"'),
              fhir.get(f"Patient/{pat['id']}/_history"),
              fhir.get(f"Patient/{pat['id']}/_history/1")):
        assert r.status_code == 400
        assert r.json()["issue"][0]["code"] == "not-supported"
    assert fhir.get(f"Patient/{pat['id']}").json()["active"] is True
    ok = fhir.patch(f"Patient/{pat['id']}", [{"op": "test", "path": "/active", "value": True},
                                              {"op": "replace", "path": "/active", "value": False}])
    assert ok.status_code == 200 and ok.json()["active"] is False
    assert fhir.patch(f"Patient/{pat['id']}", [{"op": "test", "path": "/active", "value": True}]).status_code == 400


def test_no_versioning_if_match_in_bundles(servers):
    fhir = servers["no-versioning"]
    pat = fhir.post("Patient", patient(uuid.uuid4().hex)).json()
    tag = uuid.uuid4().hex
    guarded = {"resource": dict(pat, active=True),
               "request": {"method": "PUT", "url": f"Patient/{pat['id']}", "ifMatch": 'W/"1"'}}
    tx = fhir.bundle([create_entry(patient(tag)), guarded])
    assert tx.status_code == 400 and tx.json()["issue"][0]["code"] == "not-supported"
    assert fhir.search("Patient", {"identifier": f"urn:test:pid|{tag}"}) == []
    batch = fhir.bundle([create_entry(patient(tag)), guarded], kind="batch").json()
    assert batch["entry"][0]["response"]["status"] == "201 Created"
    assert batch["entry"][1]["response"]["status"].startswith("400")
    assert batch["entry"][1]["response"]["outcome"]["issue"][0]["code"] == "not-supported"


def test_no_versioning_capability_statement(servers):
    rest = servers["no-versioning"].metadata()["rest"][0]
    for res in rest["resource"]:
        assert res["versioning"] == "no-version" and res["readHistory"] is False
        codes = {i["code"] for i in res["interaction"]}
        assert "vread" not in codes and "history-instance" not in codes and "patch" in codes
