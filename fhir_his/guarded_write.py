"""Writing shared records safely: never without a version or a compare-and-set.

An appointment, a visit being called, a counter — several kiosks and boards
may change them at once. A change is written over exactly what was read:

- the HIS gave a version (``meta.versionId`` / ``ETag``): ``PUT`` with
  ``If-Match: W/"version"`` (412 → ``HisConflict``: re-read and decide again);
- no version (``versioning: no-version``): a JSON Patch whose first
  operations ``test`` what was read — ``meta.lastUpdated`` and the old value
  of every field that changes — so the HIS applies it only if nothing changed
  meanwhile (a failed test → ``HisConflict``);
- neither: ``HisRefused`` naming the reason — the kiosk does not write blind.
"""
from __future__ import annotations

from fhir_his.client import FhirClient, Response, version_of
from fhir_his.mapping import prune
from kiosk.errors import HisRefused

SKIPPED = ("resourceType", "id", "meta", "text")


def _pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


def compare_and_set_ops(current: dict, changed: dict) -> list[dict]:
    """JSON Patch turning ``current`` into ``changed``, guarded by ``test``s of
    what ``current`` holds (top-level fields)."""
    ops: list[dict] = []
    last = (current.get("meta") or {}).get("lastUpdated")
    if last:
        ops.append({"op": "test", "path": "/meta/lastUpdated", "value": last})
    for key in sorted(set(current) | set(changed)):
        if key in SKIPPED:
            continue
        old, new = current.get(key), changed.get(key)
        if old == new:
            continue
        path = _pointer(key)
        if old is not None:
            ops.append({"op": "test", "path": path, "value": old})
        if new is None:
            ops.append({"op": "remove", "path": path})
        else:
            ops.append({"op": "replace" if old is not None else "add", "path": path, "value": new})
    return ops


def write_over(client: FhirClient, current: dict, changed: dict, *, patch_allowed: bool = True) -> Response:
    """Write ``changed`` only if the HIS still holds ``current`` (see module doc)."""
    changed = prune(changed)
    rtype, rid = current["resourceType"], current["id"]
    version = version_of(current)
    if version:
        return client.update(changed, if_match=version)
    if not patch_allowed:
        raise HisRefused(f"{rtype}: cannot be written safely — the HIS gives no version and JSON Patch is not "
                         "available (his.capabilities.patch)")
    ops = compare_and_set_ops(current, changed)
    if not any(op["op"] != "test" for op in ops):
        return Response(200, current, {})  # nothing to change
    return client.patch(rtype, rid, ops)


def after_write(r: Response, changed: dict) -> dict | None:
    """What the HIS now holds after a write: its body, else ``changed`` with the
    version the ETag gave; None when neither tells (read it again before the
    next write)."""
    if r.body and r.body.get("resourceType") == changed.get("resourceType") and r.body.get("id"):
        return r.body
    if r.version_id:
        meta = {k: v for k, v in (changed.get("meta") or {}).items() if k != "lastUpdated"}
        return {**changed, "meta": {**meta, "versionId": r.version_id}}
    return None
