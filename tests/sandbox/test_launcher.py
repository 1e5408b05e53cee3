"""The launcher (SandboxHis) and `kiosk his-sandbox`: seeding under every
profile, no orphan node process, the command's output, quiet logs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app.sandbox import SandboxHis
from kiosk.config.loader import HisSection
from kiosk.demo_data import demo_person
from tests.sandbox.conftest import Fhir

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ["honest", "minimal", "no-revinclude", "no-versioning", "create-200", "no-search-mode",
            "no-transaction", "token", "production-like", "production-like,token,no-transaction"]


def _gone(pid: int, within_s: float = 20.0) -> bool:
    """True once the process has exited (polled; the bound is for a loaded machine)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # an exited process not yet reaped by its parent is a zombie: gone too
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (FileNotFoundError, IndexError):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("profile", PROFILES)
def test_seeding_works_under_every_profile(profile):
    with SandboxHis(port=0, profile=profile) as sandbox:
        token = sandbox.get_token() if sandbox.demo_client else None
        fhir = Fhir(sandbox, token)
        citizen = demo_person("an")["citizen_id"]
        found = fhir.search("Patient", {"identifier": f"{HisSection().cccd_system}|{citizen}"})
        assert len(found) == 1
        appts = fhir.search("Appointment", {"patient": f"Patient/{found[0]['id']}"})
        assert appts and appts[0]["status"] == "booked"
        again = sandbox.seed()
        assert again["created"] == 0 and again["existing"] > 0  # seeding twice changes nothing
        assert sandbox.stats()["requests"] == 2  # seeding is not counted as FHIR traffic


def test_stop_kills_the_node_process():
    sandbox = SandboxHis(port=0, seed=False).start()
    pid = sandbox.info()["pid"]
    sandbox.stop()
    assert _gone(pid)
    sandbox.stop()  # twice is harmless


def test_node_exits_when_the_python_side_dies():
    code = ("import sys\nfrom app.sandbox import SandboxHis\n"
            "s = SandboxHis(port=0, seed=False).start()\n"
            "print(s.info()['pid'], flush=True)\n"
            "sys.stdin.readline()\n")
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        node_pid = int(parent.stdout.readline())
        assert not _gone(node_pid, within_s=0.5)
        parent.kill()  # SIGKILL: no cleanup code runs in the parent
        parent.wait(timeout=10)
        assert _gone(node_pid)
    finally:
        parent.kill()
        parent.wait(timeout=10)


def test_cli_prints_base_token_url_and_demo_client_and_stops_cleanly():
    proc = subprocess.Popen([sys.executable, "-m", "app", "his-sandbox", "--port", "0", "--no-seed",
                             "--profile", "token,minimal", "--queue-numbers", "his", "--token-ttl", "120"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline()
        assert ready.startswith("Sandbox HIS ready: http://127.0.0.1:") and "profile minimal,token" in ready
        base = ready.split()[3]
        token_url = proc.stdout.readline().split()[-1]
        assert token_url == base.replace("/fhir/R4", "/oauth2/token")
        demo = dict(part.split("=", 1) for part in proc.stdout.readline().split()[2:])
        assert demo["client_id"] == "kiosk-demo"
        tok = requests.post(token_url, auth=(demo["client_id"], demo["client_secret"]),
                            data={"grant_type": "client_credentials"}, timeout=10).json()
        assert tok["expires_in"] == 120
        enc = {"resourceType": "Encounter", "status": "arrived", "class": {"code": "AMB"},
               "serviceType": {"coding": [{"system": HisSection().department_system, "code": "NOI"}]},
               "period": {"start": "2031-09-01T08:00:00+07:00"}}
        r = requests.post(f"{base}/Encounter", json=enc, timeout=10,
                          headers={"Authorization": f"Bearer {tok['access_token']}"})
        assert r.status_code == 201 and r.content == b""
        stored = requests.get(r.headers["Location"], timeout=10,
                              headers={"Authorization": f"Bearer {tok['access_token']}"}).json()
        assert {"system": HisSection().queue_system, "value": "NOI-20310901-001"} in stored["identifier"]
        node_pid = requests.get(base.replace("/fhir/R4", "/__admin/info"), timeout=10).json()["pid"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert _gone(node_pid)
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_cli_refuses_an_unknown_profile():
    r = subprocess.run([sys.executable, "-m", "app", "his-sandbox", "--port", "0", "--no-seed", "--profile", "fast"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and 'unknown profile "fast"' in r.stderr


def test_no_request_details_in_the_logs(start_sandbox):
    sandbox = start_sandbox()
    citizen = demo_person("an")["citizen_id"]
    fhir = Fhir(sandbox)
    fhir.get("Patient", {"identifier": f"urn:x|{citizen}"})
    fhir.post("Patient", {"resourceType": "Patient", "identifier": [{"system": "urn:x", "value": citizen}]})
    fhir.get("Patient", {"identifier": f"urn:x|{citizen}"})  # the server answers in order: the POST is done
    assert "".join(sandbox._stderr_tail) == ""
