"""The identifier index follows what is stored: rollbacks, failed writes,
updates and deletes leave no stale entry, and conditional creates use it."""
from __future__ import annotations

import uuid

import pytest

from tests.sandbox.conftest import create_entry, encounter, patient

pytestmark = pytest.mark.integration


def _ids(fhir, value, system="urn:test:pid"):
    return [p["id"] for p in fhir.search("Patient", {"identifier": f"{system}|{value}"})]


def test_rolled_back_transaction_leaves_no_index_entry(fhir):
    tag = uuid.uuid4().hex[:8]
    kept = fhir.post("Patient", patient(f"OLD-{tag}")).json()
    renamed = dict(kept, identifier=[{"system": "urn:test:pid", "value": f"NEW-{tag}"}])
    r = fhir.bundle([
        create_entry(patient(f"TX-{tag}"), f"identifier=urn:test:pid|TX-{tag}"),
        {"resource": renamed, "request": {"method": "PUT", "url": f"Patient/{kept['id']}"}},
        {"resource": {"resourceType": "Patient", "id": "nobody"},
         "request": {"method": "PUT", "url": "Patient/nobody", "ifMatch": 'W/"1"'}},
    ])
    assert r.status_code == 404
    assert _ids(fhir, f"TX-{tag}") == []
    assert _ids(fhir, f"NEW-{tag}") == []
    assert _ids(fhir, f"OLD-{tag}") == [kept["id"]]
    # a conditional create of the rolled-back identifier really creates
    created = fhir.post("Patient", patient(f"TX-{tag}"), if_none_exist=f"identifier=urn:test:pid|TX-{tag}")
    assert created.status_code == 201


def test_failed_update_leaves_no_index_entry(fhir):
    tag = uuid.uuid4().hex[:8]
    kept = fhir.post("Patient", patient(f"F-{tag}")).json()
    renamed = dict(kept, identifier=[{"system": "urn:test:pid", "value": f"G-{tag}"}])
    r = fhir.put(f"Patient/{kept['id']}", renamed, if_match='W/"not-the-version"')
    assert r.status_code == 412
    assert _ids(fhir, f"G-{tag}") == []
    assert _ids(fhir, f"F-{tag}") == [kept["id"]]


def test_update_moves_and_delete_removes_index_entries(fhir):
    tag = uuid.uuid4().hex[:8]
    kept = fhir.post("Patient", patient(f"U-{tag}")).json()
    renamed = dict(kept, identifier=[{"system": "urn:test:pid", "value": f"V-{tag}"}])
    assert fhir.put(f"Patient/{kept['id']}", renamed).status_code == 200
    assert _ids(fhir, f"U-{tag}") == []
    assert _ids(fhir, f"V-{tag}") == [kept["id"]]
    assert fhir.delete(f"Patient/{kept['id']}").status_code == 200
    assert _ids(fhir, f"V-{tag}") == []
    again = fhir.post("Patient", patient(f"V-{tag}"), if_none_exist=f"identifier=urn:test:pid|V-{tag}")
    assert again.status_code == 201 and again.json()["id"] != kept["id"]


def test_index_is_fed_by_the_store_not_by_responses(fhir):
    tag = uuid.uuid4().hex[:8]
    r = fhir.post("Patient", patient(f"M-{tag}"), prefer="return=minimal")
    assert r.status_code == 201 and r.content == b""
    match = fhir.post("Patient", patient(f"M-{tag}"), if_none_exist=f"identifier=urn:test:pid|M-{tag}")
    assert match.status_code == 200
    assert r.headers["Location"].split("/_history/")[0].endswith(f"Patient/{match.json()['id']}")


def test_indexed_search_matches_the_engine_semantics(fhir):
    """Token search is case-insensitive in the engine; the index answers the same."""
    tag = uuid.uuid4().hex[:8]
    kept = fhir.post("Patient", patient(f"CaSe-{tag}", system="urn:Test:Mixed")).json()
    assert _ids(fhir, f"case-{tag}".upper(), system="URN:TEST:MIXED") == [kept["id"]]
    unindexed = [p["id"] for p in fhir.search("Patient", {"identifier": f"case-{tag}"})]  # no system: full scan
    assert unindexed == [kept["id"]]
    several = fhir.search("Patient", {"identifier": f"urn:test:mixed|case-{tag},urn:test:pid|none"})
    assert [p["id"] for p in several] == [kept["id"]]


def test_500_conditional_creates_use_the_index(start_sandbox, capsys):
    """Benchmark-like smoke (not timed): conditional creates never scan the stored resources."""
    sandbox = start_sandbox()
    from tests.sandbox.conftest import Fhir

    fhir = Fhir(sandbox)
    for i in range(100):  # a day already holds some visits
        fhir.post("Encounter", encounter(checkin=f"pre-{i}"))
    sandbox.reset_stats()
    for i in range(400):
        r = fhir.post("Encounter", encounter(checkin=f"c-{i}"), if_none_exist=f"identifier=urn:test:checkin|c-{i}")
        assert r.status_code == 201
    for i in range(0, 100, 1):  # retries and transactions
        entries = [create_entry(encounter(checkin=f"c-{i}"), f"identifier=urn:test:checkin|c-{i}")]
        r = fhir.bundle(entries)
        assert r.json()["entry"][0]["response"]["status"] == "200 OK"
    stats = sandbox.stats()
    searches = stats["searches"]
    assert searches["scans"] == 0
    assert searches["indexed"] >= 500
    # each indexed search looked at its one candidate at most
    assert searches["examined"] <= searches["indexed"]
    assert stats["byKind"]["conditional-create"] == 500
