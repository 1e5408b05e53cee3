"""Profiles that change searches and bundles: no-revinclude, no-search-mode, no-transaction."""
from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest

from app.sandbox import SandboxHis
from tests.sandbox.conftest import Fhir, create_entry, patient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def servers():
    started = {name: SandboxHis(port=0, seed=False, profile=name).start()
               for name in ("no-revinclude", "no-search-mode", "no-transaction")}
    yield {name: Fhir(s) for name, s in started.items()}
    for s in started.values():
        s.stop()


def _patient_with_appointment(fhir) -> tuple[str, dict]:
    tag = uuid.uuid4().hex
    pat = fhir.post("Patient", patient(tag)).json()
    appt = fhir.post("Appointment", {"resourceType": "Appointment", "status": "booked", "participant": [
        {"actor": {"reference": f"Patient/{pat['id']}"}, "status": "accepted"}]}).json()
    return tag, {"patient": pat, "appointment": appt}


# -- no-revinclude ---------------------------------------------------------------
def test_no_revinclude_ignores_revinclude_leniently(servers):
    fhir = servers["no-revinclude"]
    tag, made = _patient_with_appointment(fhir)
    r = fhir.get("Patient", {"identifier": f"urn:test:pid|{tag}", "_revinclude": "Appointment:patient"})
    assert r.status_code == 200
    body = r.json()
    assert [e["resource"]["resourceType"] for e in body["entry"]] == ["Patient"]
    self_link = next(link["url"] for link in body["link"] if link["relation"] == "self")
    assert parse_qsl(urlsplit(self_link).query) == [("identifier", f"urn:test:pid|{tag}")]
    # _include still works, and the explicit search a client falls back to
    inc = fhir.get("Appointment", {"patient": f"Patient/{made['patient']['id']}", "_include": "Appointment:patient"})
    assert sorted(e["resource"]["resourceType"] for e in inc.json()["entry"]) == ["Appointment", "Patient"]


def test_no_revinclude_strict_handling_refuses(servers):
    fhir = servers["no-revinclude"]
    r = fhir.get("Patient", {"identifier": "urn:test:pid|x", "_revinclude": "Appointment:patient"},
                 prefer="handling=strict")
    assert r.status_code == 400
    assert r.json()["resourceType"] == "OperationOutcome" and "_revinclude" in r.json()["issue"][0]["details"]["text"]


def test_no_revinclude_capability_statement(servers):
    resources = servers["no-revinclude"].metadata()["rest"][0]["resource"]
    assert all("searchRevInclude" not in r for r in resources)
    pat = next(r for r in resources if r["type"] == "Appointment")
    assert "Appointment:patient" in pat["searchInclude"]


# -- no-search-mode ----------------------------------------------------------------
def test_no_search_mode_entries_have_no_search_element(servers):
    fhir = servers["no-search-mode"]
    tag, made = _patient_with_appointment(fhir)
    body = fhir.get("Patient", {"identifier": f"urn:test:pid|{tag}", "_revinclude": "Appointment:patient"}).json()
    assert sorted(e["resource"]["resourceType"] for e in body["entry"]) == ["Appointment", "Patient"]
    assert all("search" not in e for e in body["entry"])
    assert all(e["fullUrl"] for e in body["entry"])
    meta = servers["no-search-mode"].metadata()["rest"][0]
    assert "no search element" in meta["documentation"]
    assert "Appointment:patient" in next(r for r in meta["resource"] if r["type"] == "Patient")["searchRevInclude"]


# -- no-transaction ----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["transaction", "batch"])
def test_no_transaction_refuses_bundles(servers, kind):
    fhir = servers["no-transaction"]
    tag = uuid.uuid4().hex
    r = fhir.bundle([create_entry(patient(tag), f"identifier=urn:test:pid|{tag}")], kind=kind)
    assert r.status_code in (400, 422)
    assert r.json()["resourceType"] == "OperationOutcome" and r.json()["issue"][0]["code"] == "not-supported"
    assert fhir.search("Patient", {"identifier": f"urn:test:pid|{tag}"}) == []
    # single-resource interactions still work
    created = fhir.post("Patient", patient(tag), if_none_exist=f"identifier=urn:test:pid|{tag}")
    assert created.status_code == 201


def test_no_transaction_capability_statement(servers):
    rest = servers["no-transaction"].metadata()["rest"][0]
    assert not [i for i in rest.get("interaction", []) if i["code"] in ("transaction", "batch")]
    assert rest["resource"][0]["conditionalCreate"] is True
