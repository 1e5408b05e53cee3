"""Capabilities first: what /metadata declares, what a probe finds, what the
config says — and the strategy and doctor verdict that follow."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from app.sandbox import SandboxHis
from fhir_his.capabilities import Capabilities, declared
from fhir_his.client import FhirClient
from fhir_his.doctor_checks import check_his
from fhir_his.his import FhirHis
from kiosk.checkin.online import CheckInService
from kiosk.clock import SystemClock
from kiosk.demo_data import demo_person, person_identity
from kiosk.domain import CheckInRequest
from kiosk.errors import HisRefused
from tests.helpers import make_config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def matrix_of(config) -> tuple[str, dict]:
    check = {c.name: c for c in check_his(config)}["his.capabilities"]
    return check.status, {row["capability"]: row for row in check.data["matrix"]}


@pytest.mark.parametrize("profile, queue, status, expect", [
    ("honest", "counter", "OK", {}),
    ("no-transaction", "counter", "WARN", {"transaction": (None, False, "one conditional create at a time")}),
    ("no-revinclude", "his", "WARN", {"revinclude": (None, False, "a second search: Appointment?patient")}),
    ("no-versioning", "his", "WARN", {"versioning": (False, None, "JSON Patch with a test operation")}),
    ("production-like", "counter", "FAIL", {"versioning": (False, None, 'set his.queue_numbers = "his"')}),
])
def test_doctor_matrix_per_profile(profile, queue, status, expect):
    with SandboxHis(profile=profile, seed=False) as s:
        found, rows = matrix_of(make_config(s.base_url, his={"queue_numbers": queue}))
        assert s.stats()["byResource"]["GET metadata"] == 1  # read once: to see the HIS answer, and for the matrix
    assert found == status
    for name, (dec, probed, strategy) in expect.items():
        assert (rows[name]["declared"], rows[name]["probed"]) == (dec, probed)
        assert strategy in rows[name]["strategy"]
    assert all(rows[n]["status"] == "OK" for n in ("conditional_create", "identifier_search", "encounter_create"))


def test_configuration_overrides_declaration_and_probe(his_sandbox):
    cfg = make_config(his_sandbox.base_url, his={"capabilities": {"transaction": False, "revinclude": False}})
    his = FhirHis(cfg)
    try:
        his_sandbox.reset_stats()
        CheckInService(his, SystemClock(), cfg).check_in(
            CheckInRequest(str(uuid.uuid4()), person_identity(demo_person("ngoc")), "NHI"))
        stats = his_sandbox.stats()["byResource"]
        assert "transaction" not in stats and stats["POST Encounter"] == 1  # one conditional create at a time
        assert his.capabilities.sources("transaction") == (True, None, False)
    finally:
        his.close()
    status, rows = matrix_of(cfg)
    assert status == "WARN" and rows["transaction"]["configured"] is False and rows["transaction"]["in_use"] is False


def test_probes_run_once_and_only_for_what_is_not_declared():
    with SandboxHis(profile="no-revinclude,no-transaction") as s:
        cfg = make_config(s.base_url)
        his = FhirHis(cfg)
        try:
            service = CheckInService(his, SystemClock(), cfg)
            s.reset_stats()
            for _ in range(3):
                service.check_in(CheckInRequest(str(uuid.uuid4()), person_identity(demo_person("ngoc")), "NOI"))
            kinds = s.stats()["byKind"]
            assert kinds["handling-strict"] == 1  # the one _revinclude probe
            assert his.capabilities.sources("revinclude") == (None, False, None)
            assert his.capabilities.sources("transaction") == (None, False, None)
            assert his.capabilities.sources("include") == (True, None, None)  # declared: not probed
            s.reset_stats()
            his.list_departments(refresh=True)  # the reference data's refresh reads /metadata again
            assert s.stats()["byResource"]["GET metadata"] == 1
            assert his.capabilities.sources("revinclude") == (None, None, None)  # to be probed again on use
        finally:
            his.close()


class StatementOnly:
    """A client whose HIS declares exactly ``statement`` and supports no probe."""

    def __init__(self, statement):
        self.statement = statement
        self.his = make_config().his

    def capabilities(self):
        return self.statement

    def search_page(self, *args, **kwargs):
        raise HisRefused("not supported", status=400)

    def transaction(self, entries):
        raise HisRefused("not supported", status=400)


def statement(resources, interactions=None):
    rest = {"mode": "server", "resource": resources}
    if interactions is not None:
        rest["interaction"] = [{"code": c} for c in interactions]
    return {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "rest": [rest]}


def test_an_incomplete_statement_fails_what_the_kiosk_cannot_work_without():
    bare = [{"type": t, "interaction": [{"code": c} for c in ("read", "search-type", "create", "update")]}
            for t in ("Patient", "Appointment", "Encounter", "HealthcareService", "Location", "Basic")]
    caps = Capabilities(StatementOnly(statement(bare)), make_config().his)
    rows = {r.capability: r for r in caps.matrix(queue_numbers="his")}
    assert rows["conditional_create"].status == "FAIL" and "his.capabilities.conditional_create" in \
        rows["conditional_create"].strategy
    assert rows["identifier_search"].status == "FAIL"  # not declared, and the probe was refused
    assert rows["transaction"].status == "WARN" and rows["transaction"].probed is False
    # versions unknown and JSON Patch not offered: shared records cannot be written safely
    assert rows["versioning"].status == rows["patch"].status == "FAIL"
    confirmed = make_config(his={"capabilities": {"conditional_create": True, "identifier_search": True,
                                                  "versioning": True}}).his
    rows = {r.capability: r for r in Capabilities(StatementOnly(statement(bare)), confirmed).matrix(
        queue_numbers="his")}
    assert all(rows[n].status == "OK" for n in ("conditional_create", "identifier_search", "versioning"))
    assert rows["patch"].status == "WARN" and rows["patch"].strategy == "If-Match only (needs versions)"


def test_declared_reads_every_element_the_kiosk_relies_on():
    full = [{"type": t, "conditionalCreate": True, "versioning": "versioned",
             "interaction": [{"code": c} for c in ("read", "search-type", "create", "update", "patch")],
             "searchInclude": ["HealthcareService:location", "Appointment:patient"],
             "searchRevInclude": ["Appointment:patient"],
             "searchParam": [{"name": n} for n in ("identifier", "patient", "date", "status")]}
            for t in ("Patient", "Appointment", "Encounter", "HealthcareService")]
    assert set(declared(statement(full, ["transaction", "batch"])).values()) == {True}
    no_version = [dict(r, versioning="no-version", conditionalCreate=False) for r in full]
    found = declared(statement(no_version))
    assert found["versioning"] is False and found["conditional_create"] is False and found["transaction"] is None


def test_doctor_json_lists_the_matrix(tmp_path):
    with SandboxHis(profile="no-transaction", seed=False) as s:
        cfg = tmp_path / "kiosk.toml"
        cfg.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[his]\nbase_url = "{s.base_url}"\n'
                       'token = "inline-secret"\nauth = "bearer"\n', encoding="utf-8")
        out = subprocess.run([sys.executable, "-m", "app", "doctor", "--config", str(cfg), "--json", "--only", "his"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        text = subprocess.run([sys.executable, "-m", "app", "doctor", "--config", str(cfg), "--only", "his"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120).stdout
        check = subprocess.run([sys.executable, "-m", "app", "config", "check", str(cfg)], cwd=ROOT,
                               capture_output=True, text=True, timeout=60)
    report = json.loads(out.stdout)
    rows = {r["capability"]: r for r in report["his_capabilities"]["matrix"]}
    assert rows["transaction"] == {"capability": "transaction", "declared": None, "probed": False,
                                   "configured": None, "in_use": False, "status": "WARN",
                                   "strategy": "one conditional create at a time (patient, visit, then appointment)"}
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["config.his_sign_in"]["status"] == "WARN" and "his.token_file" in checks["config.his_sign_in"]["fix"]
    assert "inline-secret" not in out.stdout and "inline-secret" not in text
    assert "HIS capabilities (declared / probed / configured" in text and "transaction" in text
    assert check.returncode == 0 and "WARN his.token" in check.stdout and "inline-secret" not in check.stdout


def test_every_capability_has_a_config_key():
    from fhir_his.capabilities import BY_NAME
    from kiosk.config.his_settings import CAPABILITY_KEYS

    assert set(BY_NAME) == set(CAPABILITY_KEYS)


@pytest.mark.parametrize("profile, answers", [
    ("honest", [200, 304, 304]),  # the statement's ETag / Last-Modified: unchanged → 304, no body
    ("no-versioning", [200, 200, 200]),  # no validators: the whole statement each time
])
def test_the_probe_asks_for_metadata_conditionally_when_the_server_allows(profile, answers):
    with SandboxHis(port=0, profile=profile) as sandbox:
        config = make_config(sandbox.base_url)
        seen, session = [], requests.Session()
        session.hooks["response"].append(lambda r, *a, **k: seen.append((r.status_code, len(r.content))))
        his = FhirHis(config, FhirClient(config.his, session=session))
        try:
            for _ in answers:
                assert his.ping() >= 0
        finally:
            his.close()
    assert [status for status, _ in seen] == answers
    assert all(size == 0 for status, size in seen if status == 304)


def test_a_probe_after_the_server_restarts_reads_the_new_statement(tmp_path):
    """Validators from the old server do not match the new one: a 200, then 304 again."""
    seen, session = [], requests.Session()
    with SandboxHis(port=0) as sandbox:
        config = make_config(sandbox.base_url)
        his = FhirHis(config, FhirClient(config.his, session=session))
        his.ping()
        old = dict(his._ping_validators)
    with SandboxHis(port=sandbox.port) as again:
        session.hooks["response"].append(lambda r, *a, **k: seen.append(r.status_code))
        try:
            his.ping()
            his.ping()
        finally:
            his.close()
    assert again.port == sandbox.port and seen == [200, 304] and his._ping_validators != old
