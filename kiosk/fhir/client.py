"""A small FHIR R4 REST client on ``requests.Session``.

- connect/read timeouts on every request, from ``[his]``;
- retries only for safe or idempotent requests (GET, PUT with If-Match,
  conditional creates with If-None-Exist, transactions whose entries are all
  conditional) — never for a plain POST;
- TLS verification with an optional CA bundle; bearer or basic auth;
- HTTP problems become typed errors: ``HisUnavailable`` (connection errors,
  timeouts, 5xx), ``HisConflict`` (412), ``HisRefused`` (other 4xx). Error
  texts carry the method, resource type and status — never query values
  (they may hold an ID number).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import requests

from .. import metrics
from ..config import HisSection
from ..errors import HisConflict, HisRefused, HisUnavailable

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"


@dataclass
class Response:
    status: int
    body: dict | None
    headers: dict

    @property
    def version_id(self) -> str | None:
        etag = self.headers.get("ETag") or ""
        if etag.startswith("W/"):
            etag = etag[2:]
        return etag.strip('"') or ((self.body or {}).get("meta") or {}).get("versionId")


class FhirClient:
    def __init__(self, his: HisSection, session: requests.Session | None = None):
        self.his = his
        self.base = his.base_url.rstrip("/")
        self._local = threading.local()
        self._sessions: list[requests.Session] = []  # every thread's, so that close() closes them all
        self._sessions_lock = threading.Lock()
        self._shared_session = session
        self.request_count = 0  # for benchmarks and diagnostics
        self.last_latency_s: float | None = None
        self._verify: bool | str = (his.ca_bundle or True) if his.verify_tls else False

    # -- session per thread (requests.Session is not guaranteed thread-safe) --
    @property
    def session(self) -> requests.Session:
        if self._shared_session is not None:
            return self._shared_session
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.headers.update({"Accept": FHIR_JSON, "User-Agent": "patient-kiosk/0.1"})
            if self.his.auth == "bearer":
                s.headers["Authorization"] = f"Bearer {self.his.token}"
            elif self.his.auth == "basic":
                s.auth = (self.his.username, self.his.password)
            self._local.session = s
            with self._sessions_lock:
                self._sessions.append(s)
        return s

    def close(self) -> None:
        """Close the sessions of every thread that used this client (a thread
        using it afterwards gets a new one)."""
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for s in sessions:
            s.close()
        self._local = threading.local()

    def raw_get(self, path: str, *, params=None, timeout=None) -> requests.Response:
        """One GET with the kiosk's own settings (auth, TLS, timeouts), no retry
        and no status mapping: for ``kiosk doctor``, which reports what it sees.
        Raises ``requests`` exceptions as they come."""
        return self.session.get(f"{self.base}/{path.lstrip('/')}", params=params, verify=self._verify,
                                timeout=timeout or (self.his.connect_timeout_s, self.his.read_timeout_s))

    # -- core request ---------------------------------------------------------
    def request(self, method: str, path: str, *, params=None, json_body=None, headers=None,
                retry: bool | None = None, ok=(200, 201)) -> Response:
        url = path if path.startswith("http") else f"{self.base}/{path.lstrip('/')}"
        hdrs = dict(headers or {})
        if json_body is not None:
            hdrs["Content-Type"] = FHIR_JSON
        idempotent = method in ("GET", "HEAD") or retry is True
        attempts = 1 + (self.his.retries if idempotent and retry is not False else 0)
        what = f"{method} {_resource_type_of(path)}"
        last_exc: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(0.2 * 2 ** (attempt - 1), 1.0))
            started = time.perf_counter()
            try:
                # verify is passed per request: requests lets $REQUESTS_CA_BUNDLE
                # override a Session's verify setting, but not this argument.
                r = self.session.request(
                    method, url, params=params, json=json_body, headers=hdrs, verify=self._verify,
                    timeout=(self.his.connect_timeout_s, self.his.read_timeout_s))
            except requests.exceptions.SSLError as exc:
                raise HisUnavailable(f"{what}: TLS verification failed (his.ca_bundle / his.verify_tls)") from exc
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                last_exc = HisUnavailable(f"{what}: {type(exc).__name__} talking to his.base_url")
                continue
            finally:
                self.request_count += 1
                self.last_latency_s = time.perf_counter() - started
                metrics.observe("kiosk_his_request_seconds", self.last_latency_s)
            if r.status_code >= 500:
                last_exc = HisUnavailable(f"{what}: HIS answered {r.status_code}")
                continue
            body = _json_or_none(r)
            if r.status_code in ok:
                return Response(r.status_code, body, dict(r.headers))
            if r.status_code == 412:
                raise HisConflict(f"{what}: 412 precondition failed ({_outcome_code(body)})")
            if r.status_code in (401, 403):
                raise HisRefused(f"{what}: HIS refused authentication ({r.status_code}); check his.auth",
                                 status=r.status_code)
            raise HisRefused(f"{what}: HIS answered {r.status_code} ({_outcome_code(body)})",
                             status=r.status_code)
        assert last_exc is not None
        raise last_exc

    # -- conveniences -----------------------------------------------------------
    def read(self, resource_type: str, rid: str) -> Response:
        return self.request("GET", f"{resource_type}/{rid}")

    def search(self, resource_type: str, params: dict | list) -> tuple[list[dict], list[dict]]:
        """Search and follow ``next`` links; returns (matches, included)."""
        matches, included = [], []
        r = self.request("GET", resource_type, params=params)
        while True:
            for entry in (r.body or {}).get("entry", []):
                res = entry.get("resource")
                if not res:
                    continue
                mode = (entry.get("search") or {}).get("mode", "match")
                (included if mode == "include" else matches).append(res)
            nxt = next((ln["url"] for ln in (r.body or {}).get("link", []) if ln.get("relation") == "next"), None)
            if not nxt:
                return matches, included
            r = self.request("GET", nxt)

    def create(self, resource: dict, *, if_none_exist: str | None = None) -> Response:
        headers = {"If-None-Exist": if_none_exist} if if_none_exist else None
        return self.request("POST", resource["resourceType"], json_body=resource, headers=headers,
                            retry=bool(if_none_exist))

    def update(self, resource: dict, *, if_match: str | None) -> Response:
        headers = {"If-Match": f'W/"{if_match}"'} if if_match else None
        return self.request("PUT", f"{resource['resourceType']}/{resource['id']}", json_body=resource,
                            headers=headers, retry=bool(if_match), ok=(200, 201))

    def transaction(self, entries: list[dict], *, retry: bool) -> list[dict]:
        """POST a transaction Bundle; returns the response entries. ``retry`` only
        when every entry is conditional (a repeat converges, never duplicates)."""
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        r = self.request("POST", "", json_body=bundle, retry=retry)
        out = (r.body or {}).get("entry", [])
        for i, e in enumerate(out):
            status = str((e.get("response") or {}).get("status", "200")).split()[0]
            if status == "412":
                raise HisConflict(f"transaction entry {i}: 412")
            if status.startswith(("4", "5")):
                cls = HisUnavailable if status.startswith("5") else HisRefused
                raise cls(f"transaction entry {i}: HIS answered {status}")
        return out

    def capabilities(self) -> dict:
        return self.request("GET", "metadata").body or {}


def _resource_type_of(path: str) -> str:
    part = path.split("?")[0].strip("/").split("/")
    if path.startswith("http"):
        return "(next page)"
    return part[0] if part and part[0] else "(transaction)"


def _json_or_none(r: requests.Response) -> dict | None:
    try:
        return r.json()
    except ValueError:
        return None


def _outcome_code(body: dict | None) -> str:
    issue = ((body or {}).get("issue") or [{}])[0]
    return issue.get("code") or "no outcome"


def version_of(resource: dict) -> str | None:
    return (resource.get("meta") or {}).get("versionId")
