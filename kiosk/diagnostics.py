"""Diagnostics: one check's result, and the checks of the core itself.

``Check`` is what ``kiosk doctor`` and the admin screen show, one line each:
OK / WARN / FAIL with the fix. Each device adapter and the offline cache
answer ``diagnose()`` with their own checks (they know their device); this
module holds the core's: the HIS (reachable, TLS and credentials as the kiosk
uses them, capability statement, clock skew), the data folder's disk and the
metrics endpoint. ``app/doctor.py`` runs them all. A check never reports OK
for a state it could not read, and never carries personal data.
"""
from __future__ import annotations

import email.utils
import os
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import requests

from .config import Config
from .domain import Ticket
from .fhir.client import FhirClient

OK = "OK"
WARN = "WARN"
FAIL = "FAIL"

# Resources the check-in writes or reads, with the interactions it uses.
NEEDED_RESOURCES = {
    "Patient": {"search-type", "create"},
    "Appointment": {"search-type", "update"},
    "Encounter": {"search-type", "create"},
    "HealthcareService": {"search-type"},
    "Location": {"search-type"},
}

CLOCK_WARN_S, CLOCK_FAIL_S = 30.0, 120.0
DISK_WARN_BYTES, DISK_FAIL_BYTES = 1_000_000_000, 200_000_000


@dataclass(frozen=True)
class Check:
    name: str  # e.g. "printer.status"
    status: str  # OK / WARN / FAIL
    detail: str  # what was found (device names, counts — never personal data)
    fix: str = ""  # one line: what to do when not OK

    def to_json(self) -> dict:
        return asdict(self)


def test_ticket(config: Config) -> Ticket:
    """The ticket a test print sends (``kiosk doctor --test-print``, the admin screen)."""
    now = datetime.now(timezone.utc)
    return Ticket(reference="TEST-" + now.strftime("%Y%m%d%H%M%S"), number=0, label="TEST",
                  department_code="TEST", department_name="IN THỬ / TEST PRINT", room_code="-",
                  room_name=config.kiosk.id, room_where=now.strftime("%Y-%m-%d %H:%M UTC"),
                  issued_at=now, booked=False, hospital_name=config.kiosk.hospital_name)


# --- HIS -----------------------------------------------------------------------

def _auth_fix(config: Config) -> str:
    if config.his.auth == "none":
        return "the HIS wants credentials: set his.auth (bearer/basic) and his.token or his.username/his.password"
    if config.his.auth == "bearer":
        return "his.token was refused: ask the HIS team for a valid token for this kiosk"
    return "his.username/his.password were refused: check them with the HIS team"


def check_his(config: Config, timeout_s: float = 5.0) -> list[Check]:
    base = config.his.base_url.rstrip("/")
    timeout = (min(config.his.connect_timeout_s, timeout_s), min(config.his.read_timeout_s, timeout_s))
    client = FhirClient(config.his)  # the kiosk's own settings: auth, his.verify_tls, his.ca_bundle
    try:
        sent = time.time()
        started = time.perf_counter()
        try:
            r = client.raw_get("metadata", timeout=timeout)
        except requests.exceptions.SSLError:
            return [Check("his.reachable", FAIL, f"{base}: TLS certificate not accepted",
                          "set his.ca_bundle to the hospital CA's PEM file (or fix the HIS certificate)")]
        except requests.exceptions.Timeout:
            return [Check("his.reachable", FAIL, f"{base}: no answer within {timeout[1]:.0f} s",
                          "check the network path to the HIS; ask the HIS team whether it is overloaded")]
        except requests.exceptions.RequestException as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else type(exc).__name__
            return [Check("his.reachable", FAIL, f"{base}: cannot connect ({reason})",
                          "check the network cable/Wi-Fi and his.base_url; is the HIS's FHIR server running?")]
        latency_ms = (time.perf_counter() - started) * 1000
        received = time.time()
        checks = []
        if r.status_code >= 500:
            return [Check("his.reachable", FAIL, f"{base}/metadata answered HTTP {r.status_code}",
                          "the HIS has a server error: call the HIS team")]
        if r.status_code == 404:
            return [Check("his.reachable", FAIL, f"{base}/metadata not found (HTTP 404): not a FHIR base URL",
                          "his.base_url must be the FHIR base, e.g. https://his.example.vn/fhir/R4")]
        checks.append(Check("his.reachable", OK, f"{base} answered in {latency_ms:.0f} ms"))
        checks.append(_clock_check(r.headers.get("Date"), (sent + received) / 2))
        if r.status_code in (401, 403):
            checks.append(Check("his.auth", FAIL, f"HIS refused the kiosk's credentials (HTTP {r.status_code})",
                                _auth_fix(config)))
            return checks
        checks.append(_capability_check(r))
        checks.append(_auth_check(client, timeout, config))
        return checks
    finally:
        client.close()


def _clock_check(date_header: str | None, local_mid: float) -> Check:
    if not date_header:
        return Check("his.clock", WARN, "the HIS sent no Date header: clock not compared",
                     "make sure this kiosk syncs its clock (timedatectl set-ntp true)")
    try:
        his_time = email.utils.parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError):
        return Check("his.clock", WARN, "the HIS's Date header is unreadable: clock not compared",
                     "make sure this kiosk syncs its clock (timedatectl set-ntp true)")
    skew = local_mid - his_time  # the header has 1 s resolution
    detail = f"kiosk clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the HIS"
    fix = "enable time sync: `timedatectl set-ntp true` (and an NTP server reachable from the kiosk)"
    if abs(skew) > CLOCK_FAIL_S:
        return Check("his.clock", FAIL, detail + " (queue times and appointments depend on it)", fix)
    if abs(skew) > CLOCK_WARN_S:
        return Check("his.clock", WARN, detail, fix)
    return Check("his.clock", OK, f"kiosk clock within {max(abs(skew), 1):.0f} s of the HIS")


def _capability_check(r) -> Check:
    try:
        cap = r.json()
    except ValueError:
        cap = None
    if not isinstance(cap, dict) or cap.get("resourceType") != "CapabilityStatement":
        return Check("his.capability", WARN, "/metadata did not return a CapabilityStatement",
                     "check that his.base_url points at the FHIR R4 endpoint")
    version = cap.get("fhirVersion") or "?"
    problems = [] if str(version).startswith("4.0") else [f"FHIR version {version}, expected 4.0.x (R4)"]
    rest = next((x for x in cap.get("rest") or [] if x.get("mode", "server") == "server"), None)
    if rest is None:
        problems.append("no server 'rest' section")
    else:
        offered = {res.get("type"): {i.get("code") for i in res.get("interaction") or []}
                   for res in rest.get("resource") or []}
        for rtype, needed in NEEDED_RESOURCES.items():
            if rtype not in offered:
                problems.append(f"{rtype} not offered")
            elif offered[rtype] and not needed <= offered[rtype]:
                problems.append(f"{rtype} lacks {', '.join(sorted(needed - offered[rtype]))}")
    if problems:
        return Check("his.capability", WARN, "capability statement: " + "; ".join(problems[:4]),
                     "ask the HIS team whether the kiosk's FHIR profile is enabled")
    return Check("his.capability", OK, f"FHIR {version}; Patient, Appointment, Encounter, "
                                        "HealthcareService, Location offered")


def _auth_check(client: FhirClient, timeout, config: Config) -> Check:
    try:
        r = client.raw_get("HealthcareService", params={"_count": "1"}, timeout=timeout)
    except requests.exceptions.RequestException as exc:
        return Check("his.auth", FAIL, f"authenticated request failed ({type(exc).__name__})",
                     "check the network path to the HIS")
    if r.status_code in (401, 403):
        return Check("his.auth", FAIL, f"HIS refused the kiosk's credentials (HTTP {r.status_code})",
                     _auth_fix(config))
    if r.status_code >= 400:
        return Check("his.auth", WARN, f"HealthcareService search answered HTTP {r.status_code}",
                     "ask the HIS team to allow this kiosk to read HealthcareService")
    how = "no credentials needed" if config.his.auth == "none" else f"{config.his.auth} credentials accepted"
    return Check("his.auth", OK, how)


# --- metrics endpoint ----------------------------------------------------------

def check_metrics(config: Config) -> list[Check]:
    """When ``[metrics]`` is on, whether the running kiosk serves /metrics."""
    import urllib.error
    import urllib.request

    url = f"http://127.0.0.1:{config.metrics.port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            body = r.read(200_000).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        return [Check("metrics", WARN, f"metrics enabled but nothing answers on {url} ({type(exc).__name__})",
                      "is the kiosk running? (systemctl status kiosk); another program on metrics.port?")]
    if "kiosk_up" not in body:
        return [Check("metrics", WARN, f"{url} answers but is not the kiosk's metrics",
                      "another program uses metrics.port: choose a free port")]
    return [Check("metrics", OK, f"served on {url}")]


# --- disk and database -------------------------------------------------------

def _existing_parent(path: Path) -> Path:
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(config: Config) -> list[Check]:
    data_dir = config.data_dir()
    checks = []
    if data_dir.is_dir():
        if os.access(data_dir, os.W_OK):
            checks.append(Check("disk.data_dir", OK, f"{data_dir} is writable"))
        else:
            checks.append(Check("disk.data_dir", FAIL, f"{data_dir} is not writable by this user",
                                "chown the folder to the kiosk user or set kiosk.data_dir"))
    else:
        parent = _existing_parent(data_dir)
        state = FAIL if not os.access(parent, os.W_OK) else WARN
        checks.append(Check("disk.data_dir", state, f"{data_dir} does not exist yet"
                            + ("" if state == WARN else f" and {parent} is not writable"),
                            f"create it: install -d -o kiosk {data_dir} (or set kiosk.data_dir)"))
    usage = shutil.disk_usage(_existing_parent(data_dir))
    free_mb = usage.free / 1e6
    detail = f"{free_mb:,.0f} MB free of {usage.total / 1e6:,.0f} MB on the data folder's disk"
    if usage.free < DISK_FAIL_BYTES:
        checks.append(Check("disk.space", FAIL, detail, "free disk space (old logs: journalctl --vacuum-size=100M)"))
    elif usage.free < DISK_WARN_BYTES:
        checks.append(Check("disk.space", WARN, detail, "free disk space soon (journalctl --vacuum-size=100M)"))
    else:
        checks.append(Check("disk.space", OK, detail))
    return checks


