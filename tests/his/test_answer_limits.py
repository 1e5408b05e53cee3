"""HIS answers are bounded in size and in time, against real servers on
loopback: a 50 MB answer (with or without Content-Length), a chunked answer
that never ends and one that trickles are refused as HisBadReply ("the HIS is
not answering properly") within ``his.request_deadline_s``, the rest unread;
``close()`` ends a read in flight; memory stays small while a 50 MB answer is
refused; and a huge name is cut before it reaches the domain."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time

import pytest

from fhir_his.client import FhirClient
from fhir_his.mapping import departments_from_fhir, patient_from_fhir
from kiosk.errors import HisBadReply
from kiosk.identity.field_limits import ELLIPSIS, LIMITS
from tests.helpers import make_config
from tests.his.recorder import HUGE_BYTES, start_recorder
from tests.robustness.cli import ROOT

DEADLINE_S = 1.5


@pytest.fixture
def server():
    srv = start_recorder()
    yield srv
    srv.shutdown()


def client_for(url, **his):
    his.setdefault("retries", 2)
    his.setdefault("request_deadline_s", DEADLINE_S)
    return FhirClient(make_config(url, his=his).his)


@pytest.mark.parametrize("fault, why", [("huge", "larger than his.max_answer_bytes"),
                                        ("huge_declared", "larger than his.max_answer_bytes"),
                                        ("endless", "not complete within his.request_deadline_s"),
                                        ("trickle", "not complete within his.request_deadline_s")])
def test_an_answer_too_large_or_too_slow_is_refused_once_and_not_read(server, fault, why):
    server.faults = [fault]
    client = client_for(server.url)
    started = time.monotonic()
    with pytest.raises(HisBadReply, match="the HIS is not answering properly") as caught:
        client.search("Patient", {"identifier": "x|1"})
    took = time.monotonic() - started
    assert why in str(caught.value)
    assert took < DEADLINE_S + 1.5, took
    assert len(server.requests) == 1  # not asked again: it would only wait as long
    assert server.hung_up.wait(5) or fault == "huge_declared"  # the connection was closed under the sender
    assert server.sent_bytes < HUGE_BYTES / 2  # the rest was never read


def test_a_write_whose_answer_never_ends_is_an_unknown_outcome(server):
    from kiosk.errors import HisOutcomeUnknown

    server.faults = ["endless"]
    with pytest.raises(HisOutcomeUnknown):
        client_for(server.url).request("POST", "Task", json_body={"resourceType": "Task"})


def test_close_ends_a_read_in_flight_at_once(server):
    server.faults = ["endless"]
    client = client_for(server.url, request_deadline_s=600.0)
    outcome = {}

    def read():
        started = time.monotonic()
        try:
            client.search("Patient", {"identifier": "x|1"})
        except Exception as exc:  # noqa: BLE001 - what the read ended with
            outcome["error"] = exc
        outcome["took"] = time.monotonic() - started

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.5)
    client.close()
    reader.join(5)
    assert not reader.is_alive() and isinstance(outcome["error"], HisBadReply) and outcome["took"] < 3
    assert len(server.requests) == 1  # a closed client does not try again


def test_answers_within_the_cap_still_work(server):
    bundle = {"resourceType": "Bundle", "type": "searchset",
              "entry": [{"resource": {"resourceType": "Patient", "id": f"p{i}", "name": [{"text": "A" * 2000}]}}
                        for i in range(1000)]}  # ~2 MB: a busy day's page
    server.bodies = [("application/fhir+json", json.dumps(bundle).encode())]
    found, _ = client_for(server.url).search("Patient", {"identifier": "x|1"})
    assert len(found) == 1000


MEMORY_PROBE = """
import json, resource, sys
from fhir_his.client import FhirClient
from kiosk.errors import HisBadReply
from tests.helpers import make_config
client = FhirClient(make_config(sys.argv[1], his={"request_deadline_s": 30.0}).his)
client.search("Patient", {"identifier": "x|0"})  # warm up: imports, one connection
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    client.search("Patient", {"identifier": "x|1"})
    refused = False
except HisBadReply:
    refused = True
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"refused": refused, "growth_kb": after - before}))
"""


def test_a_50_mb_answer_is_refused_in_little_memory(server):
    """Peak RSS growth while a 50 MB answer is refused stays a fraction of it
    (read whole, it took ~470 MB): at most the cap (8 MB) and some slack."""
    server.faults = ["", "huge"]  # the warm-up is answered normally
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, server.url], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    probe = json.loads(out.stdout)
    assert probe["refused"]
    assert probe["growth_kb"] < 24 * 1024, probe  # < 24 MB for a 50 MB answer (ratio < 0.5)


def test_huge_names_are_cut_with_an_ellipsis_and_logged_without_the_value(caplog):
    his = make_config("http://127.0.0.1:9/fhir").his
    huge = "Nguyễn Văn " * 100_000
    with caplog.at_level(logging.WARNING):
        patient = patient_from_fhir({"resourceType": "Patient", "id": "p", "name": [{"text": huge}]}, his)
        svc = {"resourceType": "HealthcareService", "id": "s", "name": huge, "comment": huge, "extraDetails": huge,
               "identifier": [{"system": his.department_system, "value": "NOI"}], "location": [{"reference": "Location/l"}]}
        loc = {"resourceType": "Location", "id": "l", "name": huge, "description": huge,
               "identifier": [{"system": his.room_system, "value": "P101"}]}
        [dept] = departments_from_fhir([svc], [loc], his)
    assert len(patient.full_name) <= LIMITS["name"] and patient.full_name.endswith(ELLIPSIS)
    assert len(dept.name) <= LIMITS["department"] and dept.name.endswith(ELLIPSIS)
    assert len(dept.rooms[0].name) <= LIMITS["room"] and len(dept.rooms[0].where) <= LIMITS["where"]
    assert dept.code == "NOI" and dept.rooms[0].code == "P101"
    cuts = [r for r in caplog.records if getattr(r, "event", "") == "field.cut"]
    assert {r.field for r in cuts} >= {"name", "department", "room", "where", "hours"}
    assert not [r for r in caplog.records if "Nguyễn" in r.getMessage() or "Nguyễn" in str(r.__dict__)]


@pytest.mark.parametrize("fault", ["huge", "endless", "trickle"])
def test_a_token_endpoint_answer_too_large_or_too_slow_is_refused(server, tmp_path, fault):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n", encoding="utf-8")
    secret.chmod(0o600)
    client = client_for(server.url, auth="client_credentials", client_id="kiosk", client_secret_file=str(secret),
                        token_url=server.url + "/token")
    server.faults = [fault]
    started = time.monotonic()
    with pytest.raises(HisBadReply, match="sign-in: token endpoint: the HIS is not answering properly"):
        client.search("Patient", {"identifier": "x|1"})
    assert time.monotonic() - started < DEADLINE_S + 1.5
