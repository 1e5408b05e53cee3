"""A small FHIR R4 REST client on ``requests.Session``, relying only on what R4 guarantees.

- connect/read timeouts on every request, from ``[his]``, and a total
  deadline (``his.request_deadline_s``): bodies are streamed, at most
  ``his.max_answer_bytes`` are kept (more is ``HisBadReply``, the rest never
  read) and a body not complete by the deadline — trickling, or a chunked
  answer that never ends — has its connection shut (``kiosk.operations.
  bounded_read``); ``close()`` also shuts the reads in flight; TLS verification
  with an optional CA bundle; sign-in from ``fhir_his.signin`` (a 401 renews
  the token once and repeats the request once);
- writes ask for ``Prefer: return=representation`` but never rely on a body:
  ``Response.location`` and ``Response.version_id`` (``ETag`` or
  ``meta.versionId``) are read from whatever came back;
- reads (GET) are repeated on connection errors, timeouts, 5xx and garbled
  replies, up to ``his.retries``; a write is repeated only when it certainly
  never reached the HIS (connection refused, connect timeout). A write whose
  answer was lost, cut off or garbled, or a 5xx, raises ``HisOutcomeUnknown``:
  the caller looks up what it made before doing anything again;
- every reply is checked before use (``fhir_his.replies``): what is not the
  FHIR answer asked for is ``HisBadReply``; other problems are typed too —
  ``HisUnavailable`` (down, timeouts, 5xx), ``HisConflict`` (412), ``HisRefused``
  (other 4xx). Error texts carry the method, resource type and status — never
  query values (they may hold an ID number), never a secret.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import requests
from requests.structures import CaseInsensitiveDict

from fhir_his import replies
from fhir_his.bodies import AnswerRefused, read_body, shut
from fhir_his.signin import SignIn, build_sign_in
from kiosk.config.loader import HisSection
from kiosk.errors import HisBadReply, HisConflict, HisOutcomeUnknown, HisRefused, HisUnavailable
from kiosk.operations import metrics

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"
MAX_PAGES = 50


@dataclass
class Response:
    status: int
    body: dict | None
    headers: CaseInsensitiveDict

    @property
    def version_id(self) -> str | None:
        """The version the HIS gave: ``ETag: W/"n"``, else ``meta.versionId``; None when neither."""
        return version_from_etag(self.headers.get("ETag")) or version_of(self.body or {})

    @property
    def location(self) -> str | None:
        return self.headers.get("Location") or self.headers.get("Content-Location") or None


def version_from_etag(etag: str | None) -> str | None:
    value = (etag or "").strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    return value if value and value != "None" else None


def version_of(resource: dict) -> str | None:
    """``meta.versionId`` of a resource, or None (never the text "None")."""
    vid = (resource.get("meta") or {}).get("versionId") if isinstance(resource, dict) else None
    return str(vid) if vid not in (None, "", "None") else None


class FhirClient:
    def __init__(self, his: HisSection, session: requests.Session | None = None,
                 sign_in: SignIn | None = None):
        self.his = his
        self.base = his.base_url.rstrip("/")
        self._idle: list[requests.Session] = []  # sessions between requests (their connections stay open)
        self._sessions_lock = threading.Lock()
        self._shared_session = session
        self.request_count = 0  # for benchmarks and diagnostics
        self.retry_count = 0  # requests sent again (5xx, lost replies of reads, renewed sign-in)
        self.last_latency_s: float | None = None
        self._verify: bool | str = (his.ca_bundle or True) if his.verify_tls else False
        self.sign_in = sign_in or build_sign_in(his, verify=self._verify)
        self._in_flight: set[requests.Response] = set()  # bodies being read (close() shuts them)
        self._epoch = 0  # close() counts up: a request begun before it is not tried again

    # -- sessions lent one request at a time ----------------------------------
    # A requests.Session is not guaranteed thread-safe, so each request borrows
    # one and gives it back: a few sessions serve every thread, their
    # connections (and TLS sessions) are reused, and a short-lived thread (the
    # probe's ping, a board's button) leaves nothing behind.
    KEEP_IDLE = 4

    @contextmanager
    def _session(self):
        if self._shared_session is not None:
            yield self._shared_session
            return
        with self._sessions_lock:
            s = self._idle.pop() if self._idle else None
        if s is None:
            s = requests.Session()
            s.headers.update({"Accept": FHIR_JSON, "User-Agent": "patient-kiosk/0.1"})
        try:
            yield s
        finally:
            with self._sessions_lock:
                keep = len(self._idle) < self.KEEP_IDLE
                if keep:
                    self._idle.append(s)
            if not keep:
                s.close()

    def close(self) -> None:
        """Close the idle sessions and their connections, and shut the reads in
        flight (their requests fail now, without retries); a later request opens
        a new connection."""
        with self._sessions_lock:
            idle, self._idle = self._idle, []
            self._epoch += 1
            reading = list(self._in_flight)
        for r in reading:
            shut(r)
        for s in idle:
            s.close()
        closer = getattr(self.sign_in, "close", None)
        if closer:
            closer()

    def raw_get(self, path: str, *, params=None, timeout=None, signed: bool = True) -> requests.Response:
        """One GET with the kiosk's own settings (sign-in, TLS, timeouts), no retry
        and no status mapping: for ``kiosk doctor``, which reports what it sees.
        Raises ``requests`` exceptions (and the sign-in's typed errors) as they come."""
        headers = self.sign_in.headers() if signed else None
        with self._session() as session:
            r = session.get(f"{self.base}/{path.lstrip('/')}", params=params, verify=self._verify, stream=True,
                            headers=headers, timeout=timeout or (self.his.connect_timeout_s, self.his.read_timeout_s))
        try:
            r._content = self._read_body(r, f"GET {_resource_type_of(path)}")  # r.json() and r.text work as usual
        except HisBadReply as exc:
            raise requests.exceptions.ContentDecodingError(str(exc)) from None
        return r

    def _read_body(self, r: requests.Response, what: str) -> bytes:
        """The body of ``r`` (``fhir_his.bodies.read_body``); ``close()`` shuts it meanwhile."""
        with self._sessions_lock:
            self._in_flight.add(r)
        try:
            return read_body(r, self.his, what)
        finally:
            with self._sessions_lock:
                self._in_flight.discard(r)

    # -- core request ---------------------------------------------------------
    def request(self, method: str, path: str, *, params=None, json_body=None, headers=None,
                ok=(200, 201), content_type: str = FHIR_JSON, retries: int | None = None,
                check=None) -> Response:
        """One FHIR interaction; ``retries`` (reads only) overrides ``his.retries``;
        ``check(body)`` raises HisBadReply for an answer that is not the one asked
        for (a read is then asked again, like one that was cut off)."""
        url = path if path.startswith("http") else f"{self.base}/{path.lstrip('/')}"
        write = method not in ("GET", "HEAD")
        hdrs = dict(headers or {})
        if json_body is not None:
            hdrs["Content-Type"] = content_type
        if write:
            hdrs.setdefault("Prefer", "return=representation")
        attempts = 1 + ((self.his.retries if retries is None else retries) if not write else 0)
        what = f"{method} {_resource_type_of(path)}"
        renewed = False
        failure: Exception | None = None
        attempt = 0
        epoch = self._epoch
        while attempt < attempts:
            if attempt and self._epoch != epoch:
                break  # the client was closed meanwhile (the kiosk is stopping): no more tries
            if attempt:
                self.retry_count += 1
                time.sleep(min(0.2 * 2 ** (attempt - 1), 1.0))
            attempt += 1
            sent_headers = {**hdrs, **self.sign_in.headers()}
            started = time.perf_counter()
            try:
                # verify is passed per request: requests lets $REQUESTS_CA_BUNDLE
                # override a Session's verify setting, but not this argument.
                with self._session() as session:
                    r = session.request(
                        method, url, params=params, json=json_body, headers=sent_headers, verify=self._verify,
                        stream=True, timeout=(self.his.connect_timeout_s, self.his.read_timeout_s))
                body = _json_body(r.status_code, r.headers, self._read_body(r, what), what)
                if check is not None and r.status_code in ok:
                    check(body)
            except requests.exceptions.SSLError as exc:
                raise HisUnavailable(f"{what}: TLS verification failed (his.ca_bundle / his.verify_tls)") from exc
            except (requests.exceptions.RequestException, HisBadReply) as exc:
                failure = _failure(what, exc, write)
                if (write and not _never_sent(exc)) or isinstance(exc, AnswerRefused):
                    raise failure from None  # too large or too slow: asking again would only wait as long
                if write:
                    attempts = max(attempts, 1 + self.his.retries)  # refused before sending: safe to try again
                continue
            finally:
                self.request_count += 1
                self.last_latency_s = time.perf_counter() - started
                metrics.HIS_REQUEST_SECONDS.observe(self.last_latency_s)
            if r.status_code >= 500:
                failure = (HisOutcomeUnknown if write else HisUnavailable)(f"{what}: HIS answered {r.status_code}")
                if write:
                    raise failure
                continue
            if r.status_code in ok:
                return Response(r.status_code, body, r.headers)
            if r.status_code == 401 and not renewed and self.sign_in.renew():
                renewed = True
                attempts += 1  # the request was refused unread: repeat it once with the new credential
                self.retry_count += 1
                continue
            if r.status_code == 412:
                raise HisConflict(f"{what}: 412 precondition failed ({replies.outcome_text(body)})")
            if r.status_code in (401, 403):
                raise HisRefused(f"{what}: HIS refused the kiosk's sign-in ({r.status_code}"
                                 f"{', after a fresh token' if renewed else ''}); {self.sign_in.refusal_hint()}",
                                 status=r.status_code)
            raise HisRefused(f"{what}: HIS answered {r.status_code} ({replies.outcome_text(body)})",
                             status=r.status_code)
        raise failure or HisUnavailable(f"{what}: the kiosk is stopping (FHIR client closed)")

    # -- conveniences -----------------------------------------------------------
    def read(self, resource_type: str, rid: str) -> Response:
        return self.request("GET", f"{resource_type}/{rid}",
                            check=lambda body: replies.resource(body, resource_type, f"GET {resource_type}"))

    def read_location(self, location: str, resource_type: str) -> Response:
        """Read what a ``Location`` (``[base]/Type/id[/_history/v]``) names, current version."""
        from fhir_his.mapping import ref_id

        rid = ref_id(location)
        if not rid or f"{resource_type}/" not in location:
            raise HisBadReply(f"POST {resource_type}: the Location does not name a {resource_type}")
        return self.read(resource_type, rid)

    def search_page(self, resource_type: str, params, headers=None) -> dict:
        """One search request's Bundle (checked), for probes that look at its links."""
        what = f"GET {resource_type}"
        return self.request("GET", resource_type, params=params, headers=headers,
                            check=lambda body: replies.searchset(body, what)).body

    def search(self, resource_type: str, params: dict | list) -> tuple[list[dict], list[dict]]:
        """Search and follow ``next`` links; returns (matches, included), told
        apart by ``resourceType`` (never by the optional ``search.mode``)."""
        matches, included = [], []
        what = f"GET {resource_type}"
        check = lambda body: replies.searchset(body, what)  # noqa: E731
        r = self.request("GET", resource_type, params=params, check=check)
        for _ in range(MAX_PAGES):
            found, nxt = replies.searchset(r.body, what)
            for res in found:
                (matches if res["resourceType"] == resource_type else included).append(res)
            if not nxt:
                return matches, included
            r = self.request("GET", nxt, check=check)
        raise HisBadReply(f"{what}: more than {MAX_PAGES} pages")

    def create(self, resource: dict, *, if_none_exist: str | None = None) -> Response:
        headers = {"If-None-Exist": if_none_exist} if if_none_exist else None
        r = self.request("POST", resource["resourceType"], json_body=resource, headers=headers)
        _check_write_body(r, resource["resourceType"], "POST")
        return r

    def update(self, resource: dict, *, if_match: str | None) -> Response:
        """PUT with ``If-Match: W/"version"``. A version is required: shared
        state is never written blind (without one, use ``patch`` with a ``test``)."""
        if not if_match or if_match == "None":
            raise ValueError("update without a version: use a JSON Patch with a test (compare-and-set)")
        rtype = resource["resourceType"]
        r = self.request("PUT", f"{rtype}/{resource['id']}", json_body=resource,
                         headers={"If-Match": f'W/"{if_match}"'})
        _check_write_body(r, rtype, "PUT")
        return r

    def patch(self, resource_type: str, rid: str, operations: list[dict]) -> Response:
        """JSON Patch; with ``test`` operations it is a compare-and-set. A refused
        patch (400/409/412/422: a failed test, or not allowed) is ``HisConflict``:
        the caller re-reads and decides."""
        try:
            r = self.request("PATCH", f"{resource_type}/{rid}", json_body=operations, content_type=JSON_PATCH)
        except HisRefused as exc:
            if exc.status in (400, 409, 422):
                raise HisConflict(f"PATCH {resource_type}: refused ({exc.status}); a test may have failed") from None
            raise
        _check_write_body(r, resource_type, "PATCH")
        return r

    def transaction(self, entries: list[dict]) -> list[dict]:
        """POST a transaction Bundle; returns the response entries (checked:
        one per request entry, each with ``response.status``)."""
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        try:
            r = self.request("POST", "", json_body=bundle)
        except HisBadReply as exc:
            raise HisOutcomeUnknown(str(exc)) from None
        try:
            out = replies.transaction_entries(r.body, len(entries), "transaction")
        except HisBadReply as exc:  # answered, but not with what it did: it may have done it
            raise HisOutcomeUnknown(str(exc)) from None
        for i, e in enumerate(out):
            status = replies.status_code(e["response"]["status"])
            if status == 412:
                raise HisConflict(f"transaction entry {i}: 412")
            if status >= 500 or status == 0:
                raise HisOutcomeUnknown(f"transaction entry {i}: HIS answered {e['response']['status'][:20]}")
            if status >= 400:
                raise HisRefused(f"transaction entry {i}: HIS answered {status}", status=status)
        return out

    def capabilities(self) -> dict:
        return self.request("GET", "metadata", check=lambda body: replies.resource(
            body, "CapabilityStatement", "GET metadata", need_id=False)).body


def _check_write_body(r: Response, resource_type: str, method: str) -> None:
    """A write's body, when there is one, is the resource or an OperationOutcome;
    anything else means the answer cannot be trusted (the write may have happened)."""
    body = r.body
    if body is None or body.get("resourceType") == "OperationOutcome":
        return
    if body.get("resourceType") != resource_type or not body.get("id"):
        raise HisOutcomeUnknown(f"{method} {resource_type}: answered {r.status} with "
                                f"{str(body.get('resourceType') or 'an object without resourceType')[:40]}")


def _json_body(status: int, headers, content: bytes, what: str) -> dict | None:
    """The parsed body: None when empty; HisBadReply when it is not a JSON object."""
    if not content or not content.strip():
        return None
    try:
        body = json.loads(content)
    except ValueError:  # also UnicodeDecodeError
        kind = (headers.get("Content-Type") or "no Content-Type").split(";")[0][:40]
        if status >= 400:
            return None  # an error page: the status says enough
        raise HisBadReply(f"{what}: HIS answered {status} with a body that is not JSON ({kind})") from None
    if not isinstance(body, dict):
        if status >= 400:
            return None
        raise HisBadReply(f"{what}: HIS answered {status} with JSON that is not a FHIR resource")
    return body


def _never_sent(exc: Exception) -> bool:
    """True when the request certainly did not reach the HIS (nothing to look up)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return type(reason).__name__ in ("NewConnectionError", "NameResolutionError")
    return False


def _failure(what: str, exc: Exception, write: bool) -> Exception:
    if isinstance(exc, HisBadReply):
        return HisOutcomeUnknown(str(exc)) if write else exc
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or \
            "IncompleteRead" in repr(exc) or "InvalidChunkLength" in repr(exc):
        text = f"{what}: the HIS's answer was cut off"
        return HisOutcomeUnknown(text) if write else HisBadReply(text)
    text = f"{what}: {type(exc).__name__} talking to his.base_url"
    if write and not _never_sent(exc):
        return HisOutcomeUnknown(text + " (the answer was lost: it may have been done)")
    return HisUnavailable(text)


def _resource_type_of(path: str) -> str:
    if path.startswith("http"):
        return "(next page)"
    part = path.split("?")[0].strip("/").split("/")
    return part[0] if part and part[0] else "(transaction)"
