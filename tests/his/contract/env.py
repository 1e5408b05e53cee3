"""One kiosk against one sandbox HIS of a given profile and queue-number
strategy, for the contract tests: the kiosk side built as the composition
root builds it, and an independent view of what the HIS holds."""
from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import requests

from app.compose import build_board_his, build_offline_checkin
from app.sandbox import SandboxHis
from fhir_his.his import FhirHis
from fhir_his.mapping import queue_of
from kiosk.checkin.online import CheckInService
from kiosk.clock import SystemClock
from kiosk.domain import Assurance, CheckInRequest, CheckInResult, Identity, IdentitySource
from tests.helpers import make_config

PROFILES = ["honest", "minimal", "no-revinclude", "no-versioning", "create-200", "no-search-mode",
            "no-transaction", "token", "production-like"]
WITHOUT_VERSIONS = {"no-versioning", "production-like"}
# (profile, queue numbers) pairs where the kiosk must work; the counter is
# refused where the HIS keeps no versions (tested on its own).
MATRIX = [(p, q) for p in PROFILES for q in ("his", "counter") if not (q == "counter" and p in WITHOUT_VERSIONS)]
REFUSED = [(p, "counter") for p in PROFILES if p in WITHOUT_VERSIONS]
FAST_OFFLINE = {"go_offline_after_s": 3.0, "probe_interval_s": 0.2, "retry_base_s": 0.02, "retry_max_s": 0.2,
                "lease_s": 30.0, "max_attempts": 20}

_serial = itertools.count(1)


def new_identity(name: str = "PHẠM THỊ KIỂM THỬ") -> Identity:
    """A fictional person no other test uses (citizen ids 0799 9xxx xxxx)."""
    return Identity(citizen_id=f"07999{os.getpid() % 100:02d}{next(_serial):05d}", source=IdentitySource.CHIP,
                    assurance=Assurance.CHIP_VERIFIED, full_name=name, birth_date=datetime(1980, 3, 4).date(), sex="female")


@dataclass
class Visit:
    """One Encounter as the HIS holds it."""

    resource: dict
    number: int
    label: str
    department: str | None
    location_id: str | None


class Env:
    def __init__(self, profile: str, queue: str, tmp: Path):
        self.profile, self.queue, self.tmp = profile, queue, tmp
        self.sandbox = SandboxHis(profile=profile, queue_numbers="his" if queue == "his" else None).start()
        his = {"queue_numbers": queue, "read_timeout_s": 5.0, "retries": 1}
        if self.sandbox.demo_client:
            secret = tmp / "his-client-secret"
            secret.write_text(self.sandbox.demo_client["client_secret"] + "\n", encoding="utf-8")
            secret.chmod(0o600)
            his.update(auth="client_credentials", client_id=self.sandbox.demo_client["client_id"],
                       client_secret_file=str(secret))
        self.config = make_config(self.sandbox.base_url, his=his,
                                  kiosk={"data_dir": str(tmp / "data"), "id": "KIOSK-07"}, offline=FAST_OFFLINE)
        self.clock = SystemClock(self.config.kiosk.timezone)
        self.his = FhirHis(self.config)
        self.service = CheckInService(self.his, self.clock, self.config)
        self.http = requests.Session()
        self.departments = {d.code: d for d in self.his.list_departments()}

    def close(self) -> None:
        self.his.close()
        self.http.close()
        self.sandbox.stop()

    # -- an independent view of the HIS (plain HTTP, not the kiosk's client) ----------------
    def get(self, path: str, params=None) -> dict:
        headers = {"Accept": "application/fhir+json"}
        if self.sandbox.demo_client:
            headers["Authorization"] = f"Bearer {self.sandbox.get_token()}"
        r = self.http.get(f"{self.sandbox.base_url}/{path}", params=params, headers=headers, timeout=30)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return r.json()

    def search(self, rtype: str, params: dict) -> list[dict]:
        return [e["resource"] for e in self.get(rtype, {**params, "_count": "500"}).get("entry", [])
                if e["resource"]["resourceType"] == rtype]

    def visits(self, checkin_id: str) -> list[Visit]:
        found = self.search("Encounter", {"identifier": f"{self.config.his.checkin_system}|{checkin_id}"})
        out = []
        for enc in found:
            number, label = queue_of(enc, self.config.his) or (0, "")
            dept = next((c["code"] for c in enc.get("serviceType", {}).get("coding", [])
                         if c["system"] == self.config.his.department_system), None)
            loc = (enc.get("location") or [{}])[0].get("location", {}).get("reference", "")
            out.append(Visit(enc, number, label, dept, loc.split("/")[-1] or None))
        return out

    def patients(self, citizen_id: str) -> list[dict]:
        return self.search("Patient", {"identifier": f"{self.config.his.cccd_system}|{citizen_id}"})

    def the_visit(self, checkin_id: str, ticket) -> Visit:
        """Exactly one visit for the check-in, holding what the ticket says."""
        visits = self.visits(checkin_id)
        assert len(visits) == 1, f"{len(visits)} visits for one check-in"
        visit = visits[0]
        assert visit.label == ticket.label and visit.number == ticket.number
        assert visit.department == ticket.department_code
        room = self.departments[ticket.department_code].room(ticket.room_code)
        assert visit.location_id == room.location_id
        assert visit.resource["status"] == "arrived"
        return visit

    # -- the HIS's data ------------------------------------------------------------------------
    def book(self, identity: Identity, department: str, *, in_minutes: int = 30) -> str:
        """A patient in the HIS with a booked appointment today (through the
        sandbox's admin seed path); returns the appointment id."""
        dept = self.departments[department]
        room = dept.rooms[0]
        start = self.clock.now() + timedelta(minutes=in_minutes)
        if start.date() != self.clock.now().date():
            start = self.clock.now().replace(hour=23, minute=50)
        pid, aid = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
        his = self.config.his
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": pid, "request": {"method": "POST", "url": "Patient"}, "resource": {
                "resourceType": "Patient", "identifier": [{"system": his.cccd_system, "value": identity.citizen_id}],
                "name": [{"text": identity.full_name}], "gender": "female",
                "birthDate": identity.birth_date.isoformat()}},
            {"fullUrl": aid, "request": {"method": "POST", "url": "Appointment"}, "resource": {
                "resourceType": "Appointment", "status": "booked",
                "serviceType": [{"coding": [{"system": his.department_system, "code": department}]}],
                "start": start.isoformat(), "end": (start + timedelta(minutes=15)).isoformat(),
                "participant": [{"actor": {"reference": pid}, "status": "accepted"},
                                {"actor": {"reference": f"Location/{room.location_id}"}, "status": "accepted"}]}},
        ]}
        r = requests.post(f"{self.sandbox.admin_url}/seed", json=bundle, timeout=30)
        assert r.status_code == 200, r.text
        [patient] = self.patients(identity.citizen_id)
        appts = self.search("Appointment", {"patient": f"Patient/{patient['id']}"})
        assert len(appts) == 1
        return appts[0]["id"]

    def register(self, identity: Identity) -> str:
        """A patient already in the HIS (no appointment); returns the id."""
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "request": {"method": "POST", "url": "Patient"}, "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": self.config.his.cccd_system, "value": identity.citizen_id}],
                "name": [{"text": identity.full_name}], "birthDate": identity.birth_date.isoformat()}}]}
        r = requests.post(f"{self.sandbox.admin_url}/seed", json=bundle, timeout=30)
        assert r.status_code == 200, r.text
        return self.patients(identity.citizen_id)[0]["id"]

    # -- the kiosk -----------------------------------------------------------------------------
    def check_in(self, identity: Identity, department: str | None = None, *, checkin_id: str | None = None,
                 retry: bool = False) -> CheckInResult:
        return self.service.check_in(CheckInRequest(checkin_id or str(uuid.uuid4()), identity, department,
                                                    is_retry=retry))

    def offline_parts(self):
        return build_offline_checkin(self.config, self.his, self.service, self.clock)

    def board_his(self):
        return build_board_his(self.config)
