"""What the HIS can do, and so how the kiosk talks to it.

Read from ``GET /metadata`` on first use (cached; ``refresh()`` reads it again)
and by ``kiosk doctor``. CapabilityStatements are often incomplete, so for
each capability the kiosk relies on:

1. ``his.capabilities.NAME = true/false`` in the config wins;
2. else what the statement declares (``rest.interaction``; per resource
   ``conditionalCreate``, ``versioning``, ``interaction``, ``searchInclude``,
   ``searchRevInclude``, ``searchParam``);
3. else a harmless probe, once per process: a search with
   ``Prefer: handling=strict`` whose ``self`` link shows which parameters the
   server processed, a transaction holding only a read, one search to see
   whether resources carry versions. Capabilities that only a write could
   show (conditional create, patch, create/update) are not probed.

The answers choose the request strategy (``Strategy``): one transaction or
one conditional create at a time; ``_revinclude`` or an explicit Appointment
search; ``_include`` or separate reads; If-Match where the HIS gives versions,
else a JSON Patch whose ``test`` is the compare-and-set.
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from fhir_his import replies
from fhir_his.client import FhirClient
from kiosk.config.loader import HisSection
from kiosk.errors import HisError, HisRefused

STRICT = {"Prefer": "handling=strict"}


@dataclass(frozen=True)
class Feature:
    name: str  # the key under his.capabilities
    what: str  # what it is, in the HIS team's words
    must: bool  # the kiosk cannot work safely without it
    uses: str  # the kiosk's strategy when present
    fallback: str  # ... and when absent ("" for a must-have)


FEATURES = (
    Feature("conditional_create", "conditional create (If-None-Exist) on Patient and Encounter", True,
            "creates keyed by the CCCD and the check-in id: a retry never duplicates", ""),
    Feature("identifier_search", "search by identifier on Patient and Encounter", True,
            "finds patients by CCCD and visits by check-in id (every retry looks them up)", ""),
    Feature("patient_create", "create Patient", True, "new patients are registered at the kiosk", ""),
    Feature("encounter_create", "create Encounter", True, "visits are recorded at the kiosk", ""),
    Feature("appointment_update", "update or patch Appointment", True, "booked → arrived", ""),
    Feature("transaction", "transaction Bundles (rest.interaction)", False,
            "one transaction per visit", "one conditional create at a time (patient, visit, then appointment)"),
    Feature("versioning", "versions (ETag / meta.versionId) on Appointment and Encounter", False,
            "If-Match on every shared write", "JSON Patch with a test operation (compare-and-set)"),
    Feature("patch", "JSON Patch on Appointment and Encounter", False,
            "compare-and-set where there is no version", "If-Match only (needs versions)"),
    Feature("revinclude", "_revinclude=Appointment:patient on Patient", False,
            "patient and appointments in one search", "a second search: Appointment?patient=…&date=…&status=booked"),
    Feature("include", "_include HealthcareService:location and Appointment:patient", False,
            "departments with rooms, bookings with patients in one search", "separate reads"),
    Feature("appointment_search", "Appointment search by patient, date and status", False,
            "today's appointments without _revinclude", "needed only when _revinclude is missing"),
    Feature("encounter_update", "update or patch Encounter", False,
            "calling boards record calls, starts and no-shows", "calling boards cannot record calls"),
)
BY_NAME = {f.name: f for f in FEATURES}


def _server_rest(statement: dict) -> dict:
    for rest in statement.get("rest") or []:
        if isinstance(rest, dict) and rest.get("mode", "server") == "server":
            return rest
    return {}


def _resources(rest: dict) -> dict[str, dict]:
    return {r["type"]: r for r in rest.get("resource") or [] if isinstance(r, dict) and isinstance(r.get("type"), str)}


def _interactions(res: dict | None) -> set[str] | None:
    if not res or not isinstance(res.get("interaction"), list):
        return None
    return {i.get("code") for i in res["interaction"] if isinstance(i, dict)}


def _has_all(values) -> bool | None:
    """True when every value is True, False when any is False, else None (not declared)."""
    values = list(values)
    if any(v is False for v in values):
        return False
    return True if values and all(v is True for v in values) else None


def declared(statement: dict) -> dict[str, bool | None]:
    """What the CapabilityStatement says about each feature (None: nothing)."""
    rest = _server_rest(statement)
    res = _resources(rest)
    out: dict[str, bool | None] = {}
    codes = rest.get("interaction")
    out["transaction"] = (True if any(isinstance(i, dict) and i.get("code") == "transaction" for i in codes)
                          else None) if isinstance(codes, list) else None

    def inter(rtype, *alternatives):
        found = _interactions(res.get(rtype))
        if found is None:
            return False if rtype not in res and res else None
        return any(a in found for a in alternatives)

    def flag(rtype, key):
        value = (res.get(rtype) or {}).get(key)
        return value if isinstance(value, bool) else None

    out["conditional_create"] = _has_all(flag(t, "conditionalCreate") for t in ("Patient", "Encounter"))
    versions = [(res.get(t) or {}).get("versioning") for t in ("Appointment", "Encounter")]
    out["versioning"] = _has_all(None if v is None else v in ("versioned", "versioned-update") for v in versions)
    out["patch"] = _has_all(inter(t, "patch") for t in ("Appointment", "Encounter"))
    out["patient_create"] = inter("Patient", "create")
    out["encounter_create"] = inter("Encounter", "create")
    out["appointment_update"] = _has_all([inter("Appointment", "update", "patch")])
    out["encounter_update"] = _has_all([inter("Encounter", "update", "patch")])

    def listed(rtype, key, value):
        return True if value in ((res.get(rtype) or {}).get(key) or []) else None

    def params(rtype, *names):
        declared_params = {p.get("name") for p in (res.get(rtype) or {}).get("searchParam") or [] if isinstance(p, dict)}
        return True if set(names) <= declared_params else None

    out["revinclude"] = listed("Patient", "searchRevInclude", "Appointment:patient")
    out["include"] = _has_all([listed("HealthcareService", "searchInclude", "HealthcareService:location"),
                               listed("Appointment", "searchInclude", "Appointment:patient")])
    out["identifier_search"] = _has_all([params("Patient", "identifier"), params("Encounter", "identifier")])
    out["appointment_search"] = params("Appointment", "patient", "date", "status")
    return out


@dataclass
class Row:
    """One line of the capability matrix (``kiosk doctor --json``)."""

    capability: str
    declared: bool | None
    probed: bool | None
    configured: bool | None
    value: bool
    strategy: str
    status: str  # OK / WARN / FAIL

    def to_json(self) -> dict:
        return {"capability": self.capability, "declared": self.declared, "probed": self.probed,
                "configured": self.configured, "in_use": self.value, "strategy": self.strategy,
                "status": self.status}


class Capabilities:
    """The HIS's capabilities as the kiosk uses them (thread-safe, cached)."""

    def __init__(self, client: FhirClient, his: HisSection):
        self.client = client
        self.his = his
        self._lock = threading.Lock()
        self._statement: dict | None = None
        self._declared: dict[str, bool | None] = {}
        self._probed: dict[str, bool | None] = {}

    # -- reading ------------------------------------------------------------------------
    def statement(self) -> dict:
        with self._lock:
            if self._statement is None:
                statement = self.client.capabilities()
                self._declared = declared(statement)
                self._statement = statement
            return self._statement

    def adopt(self, statement: dict) -> None:
        """Use a CapabilityStatement already read (``kiosk doctor`` reads it to see
        that the HIS answers) instead of asking for it again."""
        with self._lock:
            self._declared, self._statement = declared(statement), statement

    def refresh(self) -> None:
        """Read /metadata again and forget the probes' answers."""
        with self._lock:
            self._statement, self._declared, self._probed = None, {}, {}
        self.statement()

    def declares_revinclude(self, rtype: str, value: str) -> bool:
        """Whether the statement already read declares ``_revinclude=value`` on
        ``rtype`` (no request, no probe, no config: for an optimisation the kiosk
        uses only where the server says so, e.g. the patient's visits with the
        patient search — a server that silently ignored it would hide them)."""
        with self._lock:
            statement = self._statement
        if statement is None:
            return False
        found = (_resources(_server_rest(statement)).get(rtype) or {}).get("searchRevInclude") or []
        return isinstance(found, list) and value in found

    def sources(self, name: str) -> tuple[bool | None, bool | None, bool | None]:
        """(declared, probed, configured) as known now (no request)."""
        configured = self.his.capabilities.get(name)
        return self._declared.get(name), self._probed.get(name), configured

    def has(self, name: str, *, probe: bool = True) -> bool:
        """Whether the kiosk may use ``name``: configured, else declared, else
        probed (once), else what is safe to assume (must-haves: yes — the doctor
        FAILs until it is declared or configured; fallbacks: no)."""
        configured = self.his.capabilities.get(name)
        if configured is not None:
            return configured
        self.statement()
        found = self._declared.get(name)
        if found is not None:
            return found
        if probe and name in PROBES and name not in self._probed:
            try:
                answer = PROBES[name](self)
            except HisRefused:  # the probe itself refused (403, an unexpected 4xx): nothing learnt
                answer = None
            with self._lock:
                self._probed[name] = answer
        found = self._probed.get(name)
        if found is not None:
            return found
        return BY_NAME[name].must

    # -- the strategy -------------------------------------------------------------------
    def matrix(self, *, queue_numbers: str) -> list[Row]:
        """Every feature with its sources, value, strategy and doctor status
        (probing whatever is undeclared and probe-able)."""
        rows = []
        for f in FEATURES:
            value = self.has(f.name)
            dec, probed, conf = self.sources(f.name)
            if f.must:
                status = "OK" if value and (dec or probed or conf) else "FAIL"
                strategy = f.uses if status == "OK" else (
                    "not declared: the kiosk relies on it — confirm with the HIS team, then set "
                    f"his.capabilities.{f.name} = true" if value else f"missing: {f.what} is required")
            else:
                status = "OK" if value else "WARN"
                strategy = f.uses if value else f.fallback
            rows.append(Row(f.name, dec, probed, conf, value, strategy, status))
        by = {r.capability: r for r in rows}
        if not by["versioning"].value and not by["patch"].value:
            for name in ("versioning", "patch"):
                by[name].status = "FAIL"
                by[name].strategy = ("neither versions nor JSON Patch: shared records (appointments, calls) cannot "
                                     "be written safely")
        if by["revinclude"].value:
            by["appointment_search"].status = "OK"
        elif not by["appointment_search"].value:
            by["appointment_search"].status = "FAIL"
            by["appointment_search"].strategy = "no _revinclude and no Appointment search: bookings cannot be found"
        if queue_numbers == "counter" and not by["versioning"].value:
            by["versioning"].status = "FAIL"
            by["versioning"].strategy = ('his.queue_numbers = "counter" needs versions: set his.queue_numbers = "his"')
        return rows


# -- probes: harmless requests, each answering one question -----------------------------

def _processed(body: dict) -> set[str]:
    """The parameter names the server says it processed (its ``self`` link)."""
    query = urlsplit(replies.self_link(body)).query
    return {key for key, _ in parse_qsl(query, keep_blank_values=True)}


def _strict_search(caps: Capabilities, rtype: str, params: list[tuple[str, str]]) -> bool:
    """True when the server processed every parameter of a strict search."""
    try:
        body = caps.client.search_page(rtype, params, headers=STRICT)
    except HisError as exc:
        if getattr(exc, "status", None) in (400, 404, 422):
            return False  # refused: not supported
        raise
    return {k for k, _ in params} <= _processed(body)


def _nothing() -> str:
    return str(uuid.uuid4())


def _probe_transaction(caps: Capabilities) -> bool:
    entry = {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "request": {"method": "GET", "url": "HealthcareService?_count=1"}}
    try:
        caps.client.transaction([entry])
        return True
    except HisError as exc:
        if getattr(exc, "status", None) in (400, 403, 404, 405, 422, 501):
            return False
        raise


def _probe_versioning(caps: Capabilities) -> bool | None:
    body = caps.client.search_page("HealthcareService", [("_count", "1")])
    found, _ = replies.searchset(body, "GET HealthcareService")
    if not found:
        return None
    return bool((found[0].get("meta") or {}).get("versionId"))


PROBES = {
    "transaction": _probe_transaction,
    "versioning": _probe_versioning,
    "revinclude": lambda c: _strict_search(c, "Patient", [("_id", _nothing()),
                                                         ("_revinclude", "Appointment:patient")]),
    "include": lambda c: (_strict_search(c, "HealthcareService", [("_id", _nothing()),
                                                                  ("_include", "HealthcareService:location")])
                          and _strict_search(c, "Appointment", [("_id", _nothing()),
                                                                ("_include", "Appointment:patient")])),
    "identifier_search": lambda c: (
        _strict_search(c, "Patient", [("identifier", f"{c.his.cccd_system}|{_nothing()}")])
        and _strict_search(c, "Encounter", [("identifier", f"{c.his.checkin_system}|{_nothing()}")])),
    "appointment_search": lambda c: _strict_search(c, "Appointment", [
        ("patient", f"Patient/{_nothing()}"), ("date", "ge2000-01-01"), ("status", "booked")]),
}
