"""Fault injection: the original settings and the rules, one action at a time."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.sandbox.conftest import create_entry, patient

pytestmark = pytest.mark.integration


def _count(fhir, tag) -> int:
    return len(fhir.search("Patient", {"identifier": f"urn:test:pid|{tag}"}))


def test_original_fail_status_and_count_still_work(fhir, honest):
    honest.set_faults(fail_status=503, fail_count=2)
    assert [fhir.get("Patient").status_code for _ in range(3)] == [503, 503, 200]
    honest.set_faults(fail_status=502, fail_count=1000)
    assert fhir.get("metadata").status_code == 502
    honest.set_faults()  # "HIS back"
    assert fhir.get("metadata").status_code == 200


def test_original_delay_still_works(fhir, honest):
    honest.set_faults(delay_ms=1500)
    with pytest.raises(requests.exceptions.ReadTimeout):
        fhir.http.get(f"{fhir.base}/metadata", timeout=(5, 0.2))
    honest.set_faults()
    assert fhir.get("metadata").status_code == 200


def test_status_rule_answers_before_processing_and_only_for_its_match(fhir, honest):
    tag = uuid.uuid4().hex
    honest.add_fault(match="POST /Patient$", action="status:503", count=2)
    assert fhir.post("Patient", patient(tag)).status_code == 503
    assert fhir.post("Encounter", {"resourceType": "Encounter", "status": "arrived",
                                   "class": {"code": "AMB"}}).status_code == 201  # not matched
    assert fhir.post("Patient", patient(tag)).status_code == 503
    assert _count(fhir, tag) == 0  # never processed
    assert fhir.post("Patient", patient(tag)).status_code == 201  # count used up
    assert honest.stats()["faultsFired"]["status"] >= 2


def test_delay_rule(fhir, honest):
    honest.add_fault(match="GET /Patient", action="delay:1500")
    with pytest.raises(requests.exceptions.ReadTimeout):
        fhir.http.get(f"{fhir.base}/Patient", timeout=(5, 0.2))
    assert fhir.get("Patient").status_code == 200


def test_lose_reply_processes_then_drops_the_connection(fhir, honest):
    tag = uuid.uuid4().hex
    honest.add_fault(match="POST /Patient", action="lose_reply")
    with pytest.raises(requests.exceptions.ConnectionError):
        fhir.post("Patient", patient(tag), if_none_exist=f"identifier=urn:test:pid|{tag}")
    assert _count(fhir, tag) == 1  # it was stored
    retry = fhir.post("Patient", patient(tag), if_none_exist=f"identifier=urn:test:pid|{tag}")
    assert retry.status_code == 200 and _count(fhir, tag) == 1


def test_lose_reply_of_a_transaction(fhir, honest):
    tag = uuid.uuid4().hex
    honest.add_fault(match="POST /$", action="lose_reply")
    entries = [create_entry(patient(tag), f"identifier=urn:test:pid|{tag}")]
    with pytest.raises(requests.exceptions.ConnectionError):
        fhir.bundle(entries)
    assert _count(fhir, tag) == 1
    assert fhir.bundle(entries).json()["entry"][0]["response"]["status"] == "200 OK"


def test_html_answers_a_gateway_page_without_processing(fhir, honest):
    tag = uuid.uuid4().hex
    honest.add_fault(match="* /", action="html")
    r = fhir.post("Patient", patient(tag))
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        r.json()
    assert _count(fhir, tag) == 0


def test_invalid_json_processes_and_answers_a_broken_body(fhir, honest):
    tag = uuid.uuid4().hex
    honest.add_fault(match="POST /Patient", action="invalid_json")
    r = fhir.post("Patient", patient(tag))
    assert r.status_code == 201 and r.headers["Content-Type"].startswith("application/fhir+json")
    with pytest.raises(ValueError):
        r.json()
    assert _count(fhir, tag) == 1


def test_truncate_cuts_the_body(fhir, honest):
    tag = uuid.uuid4().hex
    fhir.post("Patient", patient(tag))
    honest.add_fault(match="GET /Patient", action="truncate")
    with pytest.raises(requests.exceptions.RequestException):
        fhir.get("Patient", {"identifier": f"urn:test:pid|{tag}"})
    assert _count(fhir, tag) == 1


def test_bundle_without_ids(fhir, honest):
    tag = uuid.uuid4().hex
    fhir.post("Patient", patient(tag))
    honest.add_fault(match="GET /Patient", action="bundle_without_ids")
    body = fhir.get("Patient", {"identifier": f"urn:test:pid|{tag}"}).json()
    assert body["total"] == 1
    entry = body["entry"][0]
    assert "id" not in entry["resource"] and "fullUrl" not in entry
    assert entry["resource"]["identifier"][0]["value"] == tag
    assert "id" in fhir.search("Patient", {"identifier": f"urn:test:pid|{tag}"})[0]  # once only


def test_fault_state_listing_clearing_and_validation(fhir, honest):
    honest.add_fault(match="GET /Encounter", action="status:429", count=3)
    honest.set_faults(delay_ms=5)
    state = requests.get(f"{honest.admin_url}/faults", timeout=5).json()
    assert state["delay_ms"] == 5
    assert state["rules"] == [{"match": "GET /Encounter", "action": "status:429", "count": 3}]
    honest.clear_faults()
    state = requests.get(f"{honest.admin_url}/faults", timeout=5).json()
    assert state == {"delay_ms": 0, "fail_status": 0, "fail_count": 0, "rules": []}
    for bad in ({"match": "GET /x", "action": "explode"}, {"match": "/Patient", "action": "html"},
                {"match": "GET /x", "action": "html", "count": 0}):
        r = requests.post(f"{honest.admin_url}/faults", json=bad, timeout=5)
        assert r.status_code == 400 and r.json()["error"]


def test_faults_never_touch_admin_endpoints(fhir, honest):
    honest.add_fault(match="* .", action="status:500", count=100)
    assert requests.get(f"{honest.admin_url}/stats", timeout=5).status_code == 200
    assert fhir.get("metadata").status_code == 500
    state = requests.get(f"{honest.admin_url}/faults", timeout=5).json()
    assert state["rules"][0]["count"] == 99  # only the FHIR request used it
    honest.clear_faults()
