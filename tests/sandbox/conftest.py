"""Helpers for the sandbox HIS tests: real node processes on random loopback
ports, spoken to over HTTP with plain `requests`."""
from __future__ import annotations

import uuid

import pytest
import requests

from app.sandbox import SandboxHis
from kiosk.config.loader import HisSection

FHIR = "application/fhir+json"
DEPT = HisSection().department_system  # the systems the launcher passes by default
QUEUE = HisSection().queue_system


class Fhir:
    """A thin FHIR-over-HTTP helper: returns `requests.Response` objects as they are."""

    def __init__(self, sandbox: SandboxHis, token: str | None = None):
        self.sandbox = sandbox
        self.base = sandbox.base_url
        self.http = requests.Session()
        self.http.headers["Accept"] = FHIR
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, params=None, **headers) -> requests.Response:
        return self.http.get(f"{self.base}/{path}", params=params, headers=headers, timeout=30)

    def post(self, path: str, body, **headers) -> requests.Response:
        return self.http.post(f"{self.base}/{path}", json=body, timeout=30,
                              headers={"Content-Type": FHIR, **_h(headers)})

    def put(self, path: str, body, **headers) -> requests.Response:
        return self.http.put(f"{self.base}/{path}", json=body, timeout=30,
                             headers={"Content-Type": FHIR, **_h(headers)})

    def patch(self, path: str, ops, **headers) -> requests.Response:
        return self.http.patch(f"{self.base}/{path}", json=ops, timeout=30,
                               headers={"Content-Type": "application/json-patch+json", **_h(headers)})

    def delete(self, path: str, **headers) -> requests.Response:
        return self.http.delete(f"{self.base}/{path}", headers=_h(headers), timeout=30)

    def bundle(self, entries: list[dict], kind: str = "transaction", **headers) -> requests.Response:
        return self.post("", {"resourceType": "Bundle", "type": kind, "entry": entries}, **headers)

    def search(self, type_: str, params=None, **headers) -> list[dict]:
        r = self.get(type_, params, **headers)
        assert r.status_code == 200, r.text
        return [e["resource"] for e in r.json().get("entry", [])]

    def metadata(self) -> dict:
        return self.get("metadata").json()


def _h(headers: dict) -> dict:
    """Python-friendly header names: if_none_exist -> If-None-Exist."""
    return {k.replace("_", "-").title(): v for k, v in headers.items()}


def patient(value: str, system: str = "urn:test:pid", **extra) -> dict:
    return {"resourceType": "Patient", "identifier": [{"system": system, "value": value}],
            "name": [{"text": f"Test {value}"}], **extra}


def encounter(dept: str | None = "NOI", *, start: str | None = None, checkin: str | None = None,
              subject: str | None = None, **extra) -> dict:
    res = {"resourceType": "Encounter", "status": "arrived",
           "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
           "identifier": [{"system": "urn:test:checkin", "value": checkin or str(uuid.uuid4())}], **extra}
    if dept:
        res["serviceType"] = {"coding": [{"system": DEPT, "code": dept}]}
    if start:
        res["period"] = {"start": start}
    if subject:
        res["subject"] = {"reference": subject}
    return res


def create_entry(resource: dict, condition: str | None = None, full_url: str | None = None) -> dict:
    entry = {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}
    if condition:
        entry["request"]["ifNoneExist"] = condition
    if full_url:
        entry["fullUrl"] = full_url
    return entry


def ident(resource: dict, system: str) -> str | None:
    return next((i["value"] for i in resource.get("identifier", []) if i.get("system") == system), None)


@pytest.fixture
def start_sandbox():
    """Starts sandboxes with the given options; all are stopped at the end."""
    started: list[SandboxHis] = []

    def start(**kwargs) -> SandboxHis:
        kwargs.setdefault("seed", False)
        sandbox = SandboxHis(port=0, **kwargs).start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture(scope="module")
def honest():
    """An empty honest sandbox shared by a test module."""
    with SandboxHis(port=0, seed=False) as sandbox:
        yield sandbox


@pytest.fixture
def fhir(honest) -> Fhir:
    honest.clear_faults()
    return Fhir(honest)
