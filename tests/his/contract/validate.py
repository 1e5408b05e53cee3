"""An independent check of every request body the kiosk sends to the HIS.

Each resource is validated with the ``fhir.resources`` R4B models (the
nearest to R4 that the package has; it checks types, cardinality and
required elements, not code bindings), plus the R4 invariants that matter
here and that the models do not check:

- ele-1: no empty strings, arrays or objects, no nulls, anywhere;
- ext-1: an extension has a value or sub-extensions, never both; its url is
  absolute (the canonical URL of its definition — no made-up ``urn:``);
- identifier systems are URLs or ``urn:oid:`` / ``urn:uuid:``;
- Reference.reference is ``Type/id``, an absolute URL or ``urn:uuid:``;
- Encounter.status (and statusHistory) and Appointment.status come from R4's
  value sets;
- a transaction Bundle: ``fullUrl`` on every entry, PUTs included, unique
  (bdl-7); ``request.method`` / ``url``; ``ifMatch`` only as ``W/"n"``.

JSON Patch bodies are checked as JSON Patch (operations, paths) with the same
ele-1 rule on their values.
"""
from __future__ import annotations

import json
import re

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

ENCOUNTER_STATUS = {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
                    "entered-in-error", "unknown"}
APPOINTMENT_STATUS = {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
                      "entered-in-error", "checked-in", "waitlist"}
REFERENCE = re.compile(r"^(urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                       r"|[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?"
                       r"|https?://\S+/[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?)$")
SYSTEM = re.compile(r"^(https?://[^\s/]+\S*|urn:oid:[0-2](\.\d+)+|urn:uuid:[0-9a-f-]{36})$")
EXT_URL = re.compile(r"^https?://[^\s/]+/\S+$")
PATCH_OPS = {"add", "remove", "replace", "move", "copy", "test"}


def _empties(value, path: str, out: list[str]) -> None:
    if value is None or value == "" or value == [] or value == {}:
        out.append(f"{path}: empty element (ele-1)")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _empties(v, f"{path}.{k}", out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _empties(v, f"{path}[{i}]", out)


def _walk(value, path: str):
    if isinstance(value, dict):
        yield path, value
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")


def resource_problems(res: dict, where: str = "") -> list[str]:
    where = where or str(res.get("resourceType"))
    out: list[str] = []
    _empties(res, where, out)
    rtype = res.get("resourceType")
    try:
        get_fhir_model_class(rtype).model_validate(res)
    except (KeyError, ValueError, ValidationError) as exc:
        out.append(f"{where}: not a valid R4B {rtype}: {str(exc)[:400]}")
    for path, obj in _walk(res, where):
        for ext in obj.get("extension", []) if isinstance(obj.get("extension"), list) else []:
            values = [k for k in ext if k.startswith("value")]
            if not EXT_URL.match(str(ext.get("url", ""))):
                out.append(f"{path}.extension: url {ext.get('url')!r} is not an absolute URL")
            if len(values) + bool(ext.get("extension")) != 1:
                out.append(f"{path}.extension {ext.get('url')}: needs a value or sub-extensions, not both (ext-1)")
        if isinstance(obj.get("reference"), str) and not REFERENCE.match(obj["reference"]):
            out.append(f"{path}.reference: {obj['reference']!r} is not Type/id, a URL or urn:uuid")
        if "system" in obj and "value" in obj and isinstance(obj.get("system"), str) \
                and not SYSTEM.match(obj["system"]):
            out.append(f"{path}.system: {obj['system']!r} is not a URL, urn:oid or urn:uuid")
    if rtype == "Encounter":
        for status in [res.get("status")] + [h.get("status") for h in res.get("statusHistory", [])]:
            if status not in ENCOUNTER_STATUS:
                out.append(f"{where}.status: {status!r} is not an R4 Encounter status")
    if rtype == "Appointment" and res.get("status") not in APPOINTMENT_STATUS:
        out.append(f"{where}.status: {res.get('status')!r} is not an R4 Appointment status")
    if rtype == "Bundle":
        out += _bundle_problems(res, where)
    return out


def _bundle_problems(bundle: dict, where: str) -> list[str]:
    out = []
    seen = set()
    for i, entry in enumerate(bundle.get("entry", [])):
        at = f"{where}.entry[{i}]"
        full = entry.get("fullUrl")
        if not full:
            out.append(f"{at}: no fullUrl")
        elif full in seen:
            out.append(f"{at}: fullUrl {full} used twice (bdl-7)")
        seen.add(full)
        req = entry.get("request") or {}
        if bundle.get("type") in ("transaction", "batch"):
            if req.get("method") not in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE") or not req.get("url"):
                out.append(f"{at}.request: method and url required")
            if "ifMatch" in req and not re.fullmatch(r'W/"[A-Za-z0-9\-.]+"', str(req["ifMatch"])) \
                    or 'W/"None"' in str(req.get("ifMatch", "")):
                out.append(f"{at}.request.ifMatch: {req['ifMatch']!r} is not W/\"version\"")
        if "resource" in entry:
            out += resource_problems(entry["resource"], f"{at}.resource")
    return out


def patch_problems(ops, where: str = "JSON Patch") -> list[str]:
    out: list[str] = []
    if not isinstance(ops, list) or not ops:
        return [f"{where}: not a non-empty list of operations"]
    for i, op in enumerate(ops):
        if not isinstance(op, dict) or op.get("op") not in PATCH_OPS or not str(op.get("path", "")).startswith("/"):
            out.append(f"{where}[{i}]: not a JSON Patch operation")
            continue
        if op["op"] in ("add", "replace", "test"):
            if "value" not in op:
                out.append(f"{where}[{i}]: {op['op']} without a value")
            else:
                _empties(op["value"], f"{where}[{i}].value", out)
    return out


def body_problems(method: str, url: str, headers: dict, body: bytes | str | None) -> list[str]:
    """Everything wrong with one request body the kiosk sent (empty list: none)."""
    if not body:
        return []
    where = f"{method} {url.split('?')[0]}"
    try:
        data = json.loads(body)
    except ValueError:
        return [f"{where}: the body is not JSON"]
    ctype = (headers.get("Content-Type") or "").split(";")[0]
    if method == "PATCH":
        if ctype != "application/json-patch+json":
            return [f"{where}: PATCH sent as {ctype}"]
        return patch_problems(data, where)
    if ctype != "application/fhir+json":
        return [f"{where}: sent as {ctype}, not application/fhir+json"]
    if not isinstance(data, dict) or "resourceType" not in data:
        return [f"{where}: not a FHIR resource"]
    return resource_problems(data, where)
