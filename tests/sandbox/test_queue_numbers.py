"""Queue numbers assigned by the HIS (--queue-numbers his)."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.config.loader import HisSection
from tests.sandbox.conftest import (
    DEPT,
    QUEUE,
    Fhir,
    create_entry,
    encounter,
    ident,
    patient,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def his():
    from app.sandbox import SandboxHis

    with SandboxHis(port=0, seed=False, queue_numbers="his") as sandbox:
        yield sandbox


@pytest.fixture
def fhir(his):
    return Fhir(his)


def _number(fhir, enc: dict, **headers) -> str | None:
    r = fhir.post("Encounter", enc, **headers)
    assert r.status_code in (200, 201), r.text
    return ident(r.json(), QUEUE)


def test_numbers_run_per_department_and_local_day(fhir):
    day = "2031-01-10T08:00:00+07:00"
    assert [_number(fhir, encounter("NOI", start=day)) for _ in range(3)] == [
        "NOI-20310110-001", "NOI-20310110-002", "NOI-20310110-003"]
    assert _number(fhir, encounter("NHI", start=day)) == "NHI-20310110-001"
    assert _number(fhir, encounter("NOI", start="2031-01-11T07:30:00+07:00")) == "NOI-20310111-001"
    # 23:30 UTC on the 10th is the 11th in Hanoi (UTC+7)
    assert _number(fhir, encounter("NOI", start="2031-01-10T23:30:00Z")) == "NOI-20310111-002"
    assert _number(fhir, encounter("NOI", start="2031-01-10")) == "NOI-20310110-004"


def test_no_number_without_department_or_when_one_is_carried(fhir):
    assert _number(fhir, encounter(None, start="2031-02-01T08:00:00+07:00")) is None
    other = encounter("NOI", start="2031-02-01T08:00:00+07:00")
    other["serviceType"]["coding"][0]["system"] = "urn:other:department"
    assert _number(fhir, other) is None
    own = encounter("NOI", start="2031-02-01T08:00:00+07:00")
    own["identifier"].append({"system": QUEUE, "value": "NOI-20310201-900"})
    r = fhir.post("Encounter", own).json()
    assert [i["value"] for i in r["identifier"] if i["system"] == QUEUE] == ["NOI-20310201-900"]
    assert _number(fhir, encounter("NOI", start="2031-02-01T08:00:00+07:00")) == "NOI-20310201-001"


def test_missing_start_uses_the_local_day_now(fhir):
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    before = datetime.now(tz).strftime("%Y%m%d")
    value = _number(fhir, encounter("TMH"))
    after = datetime.now(tz).strftime("%Y%m%d")
    assert value.rsplit("-", 1)[0] in (f"TMH-{before}", f"TMH-{after}")


def test_retried_conditional_create_keeps_its_number(fhir):
    start = "2031-03-01T08:00:00+07:00"
    enc = encounter("MAT", start=start, checkin="retry-1")
    cond = "identifier=urn:test:checkin|retry-1"
    first = _number(fhir, enc, if_none_exist=cond)
    assert first == "MAT-20310301-001"
    assert _number(fhir, enc, if_none_exist=cond) == first
    tx = fhir.bundle([create_entry(enc, cond)]).json()["entry"][0]
    assert tx["response"]["status"] == "200 OK" and ident(tx["resource"], QUEUE) == first
    assert _number(fhir, encounter("MAT", start=start)) == "MAT-20310301-002"  # nothing burnt


def test_rolled_back_transaction_gives_its_number_back(fhir):
    start = "2031-04-01T08:00:00+07:00"
    pat_url = f"urn:uuid:{uuid.uuid4()}"
    entries = [
        create_entry(patient(uuid.uuid4().hex), None, pat_url),
        create_entry(encounter("SAN", start=start, subject=pat_url)),
        create_entry(encounter("SAN", start=start, subject=pat_url)),
        {"resource": {"resourceType": "Patient", "id": "nobody"},
         "request": {"method": "PUT", "url": "Patient/nobody", "ifMatch": 'W/"1"'}},
    ]
    assert fhir.bundle(entries).status_code == 404
    ok = fhir.bundle(entries[:3]).json()
    assert [ident(e["resource"], QUEUE) for e in ok["entry"][1:]] == ["SAN-20310401-001", "SAN-20310401-002"]


def test_concurrent_creates_from_threads_get_distinct_gapless_numbers(his):
    start = "2031-05-01T08:00:00+07:00"
    got: list[str] = []
    lock = threading.Lock()

    def kiosk():
        fhir = Fhir(his)
        for _ in range(10):
            value = _number(fhir, encounter("RHM", start=start))
            with lock:
                got.append(value)

    threads = [threading.Thread(target=kiosk) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == [f"RHM-20310501-{n:03d}" for n in range(1, 61)]


def test_numbers_grow_past_three_digits(fhir):
    start = "2031-06-01T08:00:00+07:00"
    entries = [create_entry(encounter("DA", start=start)) for _ in range(1000)]
    out = fhir.bundle(entries, kind="batch").json()["entry"]
    values = [ident(e["resource"], QUEUE) for e in out]
    assert values[0] == "DA-20310601-001" and values[998] == "DA-20310601-999" and values[999] == "DA-20310601-1000"


def test_systems_and_timezone_come_from_the_launcher(start_sandbox):
    his = HisSection(queue_system="https://his.example.vn/sid/stt", department_system="https://his.example.vn/sid/khoa")
    sandbox = start_sandbox(queue_numbers="his", his=his, timezone="UTC", profile="minimal")
    fhir = Fhir(sandbox)
    enc = encounter(None, start="2031-07-01T23:30:00Z")
    enc["serviceType"] = {"coding": [{"system": his.department_system, "code": "NOI"}]}
    r = fhir.post("Encounter", enc)
    assert r.status_code == 201 and r.content == b""  # minimal: read it by its location
    stored = fhir.http.get(r.headers["Location"].split("/_history/")[0], timeout=10).json()
    assert ident(stored, his.queue_system) == "NOI-20310701-001"
    info = sandbox.info()["queueNumbers"]
    assert info["system"] == his.queue_system and info["counters"] == {"NOI-20310701": 1}


def test_off_by_default(start_sandbox):
    fhir = Fhir(start_sandbox())
    r = fhir.post("Encounter", encounter("NOI", start="2031-08-01T08:00:00+07:00")).json()
    assert r["serviceType"]["coding"][0]["system"] == DEPT and ident(r, QUEUE) is None
