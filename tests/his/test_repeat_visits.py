"""One number per visit (issue 24): a second check-in the same day for the
same department finds the patient's open visit — in the HIS (the sandbox, a
real FHIR engine) — and makes no second one, unless ``kiosk.repeat_visits =
"allow"``; a server that ignores the Encounter filter is not believed."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from fhir_his.client import FhirClient
from fhir_his.his import FhirHis
from kiosk.checkin.online import CheckInService
from kiosk.clock import FixedClock, SystemClock
from kiosk.demo_data import demo_person, person_identity
from kiosk.operations import metrics
from tests.helpers import make_config, request_for

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Counting(FhirClient):
    """The real client, counting searches per resource type; ``ignore_filters``
    makes every Encounter search come back unfiltered, as from a server that
    ignores subject, date and status."""

    def __init__(self, his, *, ignore_filters: bool = False):
        super().__init__(his)
        self.searches: list[str] = []
        self.ignore_filters = ignore_filters

    def search(self, resource_type, params):
        self.searches.append(resource_type)
        pairs = list(params.items() if isinstance(params, dict) else params)
        if self.ignore_filters and resource_type == "Encounter" and any(k == "subject" for k, _ in pairs):
            params = [(k, v) for k, v in pairs if k == "_count"]  # the open-visit search, unfiltered
        return super().search(resource_type, params)


def service_for(sandbox, *, clock=None, ignore_filters=False, **kiosk):
    cfg = make_config(sandbox.base_url, kiosk=kiosk, his={"capabilities": {"revinclude": False}}
                      if ignore_filters else {})
    his = FhirHis(cfg, Counting(cfg.his, ignore_filters=ignore_filters))
    return CheckInService(his, clock or SystemClock(), cfg), his


def encounters_of(his: FhirHis, patient_id: str) -> list[dict]:
    return his.client.search("Encounter", [("subject", f"Patient/{patient_id}"), ("_count", "100")])[0]


def test_a_second_check_in_today_gets_the_same_number_and_no_second_visit(fresh_sandbox):
    service, his = service_for(fresh_sandbox)
    who = person_identity(demo_person("ngoc"))
    before = metrics.REGISTRY.value("kiosk_checkin_repeats_total", mode="online") or 0
    first = service.check_in(request_for(who, "NOI"))
    his.client.searches.clear()
    again = service.check_in(request_for(who, "NOI"))
    # The sandbox declares _revinclude=Encounter:patient: the visits came with the patient search.
    assert "Encounter" not in his.client.searches and his.client.searches.count("Patient") == 1
    assert again.repeat and not first.repeat
    assert again.ticket.label == first.ticket.label and again.encounter_id == first.encounter_id
    assert again.ticket.reference == first.ticket.reference  # the same ticket again
    assert again.to_json()["repeat"] is True
    assert len(encounters_of(his, first.patient_id)) == 1
    assert metrics.REGISTRY.value("kiosk_checkin_repeats_total", mode="online") == before + 1
    # Another department the same day is a visit of its own.
    other = service.check_in(request_for(who, "MAT"))
    assert not other.repeat and other.encounter_id != first.encounter_id


def test_without_revinclude_one_more_search_finds_the_open_visit(fresh_sandbox):
    cfg = make_config(fresh_sandbox.base_url, his={"capabilities": {"revinclude": False}})
    his = FhirHis(cfg, Counting(cfg.his))
    service = CheckInService(his, SystemClock(), cfg)
    who = person_identity(demo_person("ngoc"))
    first = service.check_in(request_for(who, "NOI"))
    again = service.check_in(request_for(who, "NOI"))
    assert again.repeat and again.ticket.label == first.ticket.label
    assert len(encounters_of(his, first.patient_id)) == 1
    # A patient the HIS does not know costs no Encounter search.
    his.client.searches.clear()
    his.lookup_patient("079299999999", SystemClock().now().date())
    assert "Encounter" not in his.client.searches


def test_allow_makes_a_second_visit(fresh_sandbox):
    service, his = service_for(fresh_sandbox, repeat_visits="allow")
    who = person_identity(demo_person("ngoc"))
    first = service.check_in(request_for(who, "NOI"))
    again = service.check_in(request_for(who, "NOI"))
    assert not again.repeat and again.encounter_id != first.encounter_id
    assert again.ticket.label != first.ticket.label
    assert len(encounters_of(his, first.patient_id)) == 2


def test_a_server_ignoring_the_encounter_filter_is_not_believed(fresh_sandbox):
    now = SystemClock().now()
    # Yesterday's visit of this patient, still "arrived", and today's open visit of another patient.
    yesterday, _ = service_for(fresh_sandbox, clock=FixedClock(now - timedelta(days=1)))
    who = person_identity(demo_person("ngoc"))
    old = yesterday.check_in(request_for(who, "NOI"))
    service, his = service_for(fresh_sandbox, ignore_filters=True)
    someone = service.check_in(request_for(person_identity(demo_person("huong")), "NOI"))
    assert not someone.repeat
    # Every Encounter comes back for the lookup: none of them is this patient's of today.
    lookup = his.lookup_patient(who.citizen_id, now.date())
    assert lookup.open_visits == {}
    today = service.check_in(request_for(who, "NOI"))
    assert not today.repeat and today.encounter_id not in (old.encounter_id, someone.encounter_id)
    # ... and now it is found, among all the others the server sent.
    again = service.check_in(request_for(who, "NOI"))
    assert again.repeat and again.encounter_id == today.encounter_id


def test_a_finished_visit_is_not_open(fresh_sandbox):
    service, his = service_for(fresh_sandbox)
    who = person_identity(demo_person("ngoc"))
    first = service.check_in(request_for(who, "NOI"))
    enc = his.client.read("Encounter", first.encounter_id).body
    his.client.request("PUT", f"Encounter/{first.encounter_id}", json_body={**enc, "status": "finished"})
    again = service.check_in(request_for(who, "NOI"))
    assert not again.repeat and again.encounter_id != first.encounter_id


def test_cli_checkin_json_prints_the_number_the_patient_has(fresh_sandbox, tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[his]\nbase_url = "{fresh_sandbox.base_url}"\n', encoding="utf-8")
    base = [sys.executable, "-m", "app", "checkin", "--config", str(cfg), "--json", "--department", "NOI",
            "--id", "079200003333", "--name", "VÕ THỊ THU HƯƠNG", "--dob", "2000-05-20", "--sex", "Nữ"]
    first = json.loads(subprocess.run(base, check=True, capture_output=True, text=True).stdout)
    again = subprocess.run(base, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    shown = json.loads(again.stdout)
    assert shown["repeat"] is True and first["repeat"] is False
    assert shown["ticket"]["label"] == first["ticket"]["label"]
    assert shown["encounter"]["id"] == first["encounter"]["id"]
