"""Profiles combine; production-like turns on every behaviour a kiosk must cope with."""
from __future__ import annotations

import uuid

import pytest

from kiosk.errors import ConfigError
from tests.sandbox.conftest import Fhir, create_entry, patient

pytestmark = pytest.mark.integration

PRODUCTION_LIKE = ["create-200", "minimal", "no-revinclude", "no-search-mode", "no-versioning"]


def test_minimal_no_search_mode_create_200_together(start_sandbox):
    sandbox = start_sandbox(profile="minimal,no-search-mode,create-200")
    assert sandbox.active_profile == ["create-200", "minimal", "no-search-mode"]
    fhir = Fhir(sandbox)
    tag = uuid.uuid4().hex
    created = fhir.post("Patient", patient(tag), if_none_exist=f"identifier=urn:test:pid|{tag}")
    assert created.status_code == 201 and created.content == b"" and created.headers["Location"]
    matched = fhir.post("Patient", patient(tag), if_none_exist=f"identifier=urn:test:pid|{tag}")
    assert matched.status_code == 200 and matched.content == b"" and "Location" not in matched.headers
    tx = fhir.bundle([create_entry(patient(tag), f"identifier=urn:test:pid|{tag}")]).json()
    assert tx["entry"] == [{"response": {"status": "200 OK"}}]
    found = fhir.get("Patient", {"identifier": f"urn:test:pid|{tag}"}).json()
    assert found["total"] == 1 and "search" not in found["entry"][0]
    assert created.headers["Location"].split("/_history/")[0] == found["entry"][0]["fullUrl"]
    doc = fhir.metadata()["rest"][0]["documentation"]
    assert "Prefer: return is ignored" in doc and "no search element" in doc and "200 OK with no body" in doc


def test_production_like_turns_on_every_coping_behaviour(start_sandbox):
    sandbox = start_sandbox(profile="production-like")
    assert sandbox.active_profile == PRODUCTION_LIKE
    fhir = Fhir(sandbox)
    tag = uuid.uuid4().hex
    created = fhir.post("Patient", patient(tag), prefer="return=representation")
    assert created.status_code == 201 and created.content == b"" and "ETag" not in created.headers
    assert "/_history/" not in created.headers["Location"]
    pid = created.headers["Location"].rsplit("/", 1)[1]
    fhir.post("Appointment", {"resourceType": "Appointment", "status": "booked",
                              "participant": [{"actor": {"reference": f"Patient/{pid}"}, "status": "accepted"}]})
    body = fhir.get("Patient", {"identifier": f"urn:test:pid|{tag}", "_revinclude": "Appointment:patient"}).json()
    assert [e["resource"]["resourceType"] for e in body["entry"]] == ["Patient"]
    assert "search" not in body["entry"][0] and "versionId" not in body["entry"][0]["resource"].get("meta", {})
    assert fhir.put(f"Patient/{pid}", {"resourceType": "Patient", "id": pid}, if_match='W/"1"').status_code == 400
    matched = fhir.post("Patient", patient(tag), if_none_exist=f"identifier=urn:test:pid|{tag}")
    assert matched.status_code == 200 and matched.content == b"" and "Location" not in matched.headers
    rest = fhir.metadata()["rest"][0]
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch"}  # not no-transaction
    assert "security" not in rest  # not token
    assert all(r["versioning"] == "no-version" and "searchRevInclude" not in r for r in rest["resource"])
    assert sandbox.info()["profile"] == PRODUCTION_LIKE


def test_unknown_profile_is_refused(start_sandbox):
    with pytest.raises(ConfigError, match="unknown profile"):
        start_sandbox(profile="minimal,teapot")
