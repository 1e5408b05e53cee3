"""``kiosk doctor``'s HIS checks, run with the kiosk's own settings (sign-in, TLS, timeouts).

- ``his.reachable`` — ``/metadata`` answers (TLS accepted, a FHIR base URL);
- ``his.clock`` — the kiosk's clock against the HIS's ``Date`` header;
- ``his.capability`` — an R4 CapabilityStatement offering the resources the kiosk uses;
- ``his.auth`` — a signed-in search is accepted (a fresh OAuth2 token when so configured);
- ``his.capabilities`` — the capability matrix (``fhir_his.capabilities``):
  FAIL naming each capability the kiosk cannot work safely without, WARN for
  each fallback in use; ``kiosk doctor --json`` carries the whole matrix
  (capability → declared / probed / configured → strategy) in its ``data``.
"""
from __future__ import annotations

import email.utils
import time

import requests

from fhir_his.capabilities import Capabilities
from fhir_his.client import FhirClient
from kiosk.config.loader import Config
from kiosk.errors import ConfigError, HisError
from kiosk.operations.diagnostics import FAIL, OK, WARN, Check
from kiosk.operations.logs import redact

# Resources the check-in writes or reads, with the interactions it uses.
NEEDED_RESOURCES = {
    "Patient": {"search-type", "create"},
    "Appointment": {"search-type"},
    "Encounter": {"search-type", "create"},
    "HealthcareService": {"search-type"},
    "Location": {"search-type"},
}

CLOCK_WARN_S, CLOCK_FAIL_S = 30.0, 120.0


def _auth_fix(config: Config) -> str:
    his = config.his
    if his.auth == "none":
        return "the HIS wants credentials: set his.auth and its keys (README: Connecting your HIS)"
    if his.auth == "bearer":
        return "the bearer token was refused: ask the HIS team for a valid token (his.token_file)"
    if his.auth == "basic":
        return "his.username / his.password_file were refused: check them with the HIS team"
    secret = "his.client_secret_file" if his.auth == "client_credentials" else "his.private_key_file (and its key id)"
    return f"check his.client_id and {secret} with the HIS team, and the scopes in his.scope"


def check_his(config: Config, timeout_s: float = 5.0) -> list[Check]:
    base = config.his.base_url.rstrip("/")
    timeout = (min(config.his.connect_timeout_s, timeout_s), min(config.his.read_timeout_s, timeout_s))
    client = FhirClient(config.his)  # the kiosk's own settings: sign-in, his.verify_tls, his.ca_bundle
    try:
        sent = time.time()
        started = time.perf_counter()
        try:
            r = client.raw_get("metadata", timeout=timeout, signed=False)
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
        if r.status_code >= 500:
            return [Check("his.reachable", FAIL, f"{base}/metadata answered HTTP {r.status_code}",
                          "the HIS has a server error: call the HIS team")]
        if r.status_code == 404:
            return [Check("his.reachable", FAIL, f"{base}/metadata not found (HTTP 404): not a FHIR base URL",
                          "his.base_url must be the FHIR base, e.g. https://his.example.vn/fhir/R4")]
        checks = [Check("his.reachable", OK, f"{base} answered in {latency_ms:.0f} ms"),
                  _clock_check(r.headers.get("Date"), (sent + received) / 2)]
        if r.status_code in (401, 403):  # a HIS that wants sign-in even for /metadata
            try:
                r = client.raw_get("metadata", timeout=timeout)
            except (requests.exceptions.RequestException, HisError, ConfigError) as exc:
                checks.append(Check("his.auth", FAIL, f"signed-in /metadata failed ({redact(str(exc))[:200]})",
                                    _auth_fix(config)))
                return checks
            if r.status_code in (401, 403):
                checks.append(Check("his.auth", FAIL, f"HIS refused the kiosk's credentials (HTTP {r.status_code})",
                                    _auth_fix(config)))
                return checks
        try:
            statement = r.json()
        except ValueError:
            statement = None
        checks.append(_statement_check(statement))
        auth = _auth_check(client, timeout, config)
        checks.append(auth)
        if auth.status != FAIL and isinstance(statement, dict) and statement.get("resourceType") == "CapabilityStatement":
            checks += capability_checks(client, config, statement)
        return checks
    finally:
        client.close()


def _auth_check(client: FhirClient, timeout, config: Config) -> Check:
    try:
        r = client.raw_get("HealthcareService", params={"_count": "1"}, timeout=timeout)
    except requests.exceptions.RequestException as exc:
        return Check("his.auth", FAIL, f"signed-in request failed ({type(exc).__name__})",
                     "check the network path to the HIS")
    except (HisError, ConfigError) as exc:  # the sign-in itself: token endpoint, secret files
        return Check("his.auth", FAIL, redact(str(exc))[:300], _auth_fix(config))
    if r.status_code in (401, 403):
        return Check("his.auth", FAIL, f"HIS refused the kiosk's credentials (HTTP {r.status_code})",
                     _auth_fix(config))
    if r.status_code >= 400:
        return Check("his.auth", WARN, f"HealthcareService search answered HTTP {r.status_code}",
                     "ask the HIS team to allow this kiosk to read HealthcareService")
    how = {"none": "no credentials needed", "client_credentials": "OAuth2 client credentials accepted (token "
           "received)", "smart_backend": "SMART backend services sign-in accepted (token received)"}
    return Check("his.auth", OK, how.get(config.his.auth, f"{config.his.auth} credentials accepted"))


def capability_checks(client: FhirClient, config: Config, statement: dict | None = None) -> list[Check]:
    """``his.capabilities``: the matrix, FAIL / WARN / OK, with the rows in ``data``
    (from ``statement`` when /metadata was read already)."""
    caps = Capabilities(client, config.his)
    if statement is not None:
        caps.adopt(statement)
    try:
        rows = caps.matrix(queue_numbers=config.his.queue_numbers)
    except (HisError, ConfigError) as exc:
        return [Check("his.capabilities", FAIL, f"capabilities could not be read ({redact(str(exc))[:200]})",
                      "check that his.base_url is the FHIR R4 endpoint and the HIS answers")]
    data = {"queue_numbers": config.his.queue_numbers, "matrix": [r.to_json() for r in rows]}
    fails = [r for r in rows if r.status == FAIL]
    warns = [r for r in rows if r.status == WARN]
    if fails:
        return [Check("his.capabilities", FAIL, "the kiosk cannot work safely without: " + "; ".join(
            f"{r.capability} ({r.strategy})" for r in fails), "ask the HIS team to enable it, or — if the HIS "
            "does support it — confirm it with his.capabilities.NAME = true", data=data)]
    if warns:
        return [Check("his.capabilities", WARN, "fallbacks in use: " + "; ".join(
            f"{r.capability} → {r.strategy}" for r in warns),
            "works as it is; each fallback costs a request more (see kiosk doctor --json)", data=data)]
    return [Check("his.capabilities", OK, f"transaction, conditional create, versions, _revinclude, _include; "
                  f"queue numbers: {config.his.queue_numbers}", data=data)]


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


def _statement_check(cap) -> Check:
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


