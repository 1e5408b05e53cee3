"""HIS replies are checked before use.

Whatever is not the FHIR answer asked for — an HTML page, a body that is not
JSON, a Bundle whose entries have no id, an OperationOutcome with 200, a
resource of another type — becomes ``HisBadReply`` naming what was wrong,
never an ``IndexError`` / ``KeyError`` / ``AttributeError`` further on. The
texts name the request (method and resource type) and the problem, never a
value from the reply (it may hold personal data).
"""
from __future__ import annotations

from contextlib import contextmanager

from kiosk.errors import HisBadReply


@contextmanager
def reading(what: str):
    """Map HIS data inside: a resource whose content has an unexpected shape
    (a string where an object belongs, a list that is not one…) becomes
    HisBadReply naming what was being read, never a traceback."""
    try:
        yield
    except (AttributeError, KeyError, TypeError, IndexError, ValueError) as exc:
        raise HisBadReply(f"{what}: a resource with unexpected content ({type(exc).__name__})") from None


def _kind(body) -> str:
    if isinstance(body, dict):
        return str(body.get("resourceType") or "a JSON object without resourceType")[:40]
    return type(body).__name__


def outcome_text(body) -> str:
    """The first issue's code of an OperationOutcome (for error texts)."""
    if not isinstance(body, dict):
        return "no OperationOutcome"
    issues = body.get("issue")
    first = issues[0] if isinstance(issues, list) and issues and isinstance(issues[0], dict) else {}
    return str(first.get("code") or "no outcome")[:40]


def resource(body, resource_type: str, what: str, *, need_id: bool = True) -> dict:
    """``body`` as a resource of ``resource_type`` (with an id), else HisBadReply."""
    if not isinstance(body, dict):
        raise HisBadReply(f"{what}: expected a {resource_type}, got {_kind(body)}")
    if body.get("resourceType") == "OperationOutcome":
        raise HisBadReply(f"{what}: expected a {resource_type}, got an OperationOutcome ({outcome_text(body)})")
    if body.get("resourceType") != resource_type:
        raise HisBadReply(f"{what}: expected a {resource_type}, got {_kind(body)}")
    if need_id and not (isinstance(body.get("id"), str) and body["id"]):
        raise HisBadReply(f"{what}: the {resource_type} has no id")
    return body


def searchset(body, what: str) -> tuple[list[dict], str | None]:
    """The resources of a searchset Bundle (each with a resourceType and an id)
    and the ``next`` link, else HisBadReply. Included resources are told from
    matches by the caller, by ``resourceType`` (``search.mode`` is optional)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
            raise HisBadReply(f"{what}: expected a search Bundle, got an OperationOutcome ({outcome_text(body)})")
        raise HisBadReply(f"{what}: expected a search Bundle, got {_kind(body)}")
    if body.get("type") not in ("searchset", None):
        raise HisBadReply(f"{what}: expected a searchset Bundle, got type {str(body.get('type'))[:20]}")
    entries = body.get("entry") or []
    if not isinstance(entries, list):
        raise HisBadReply(f"{what}: Bundle.entry is not a list")
    out = []
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if res is None:
            continue  # an entry without a resource (e.g. only a search outcome) carries nothing to use
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise HisBadReply(f"{what}: entry {i} has no resourceType")
        if res["resourceType"] == "OperationOutcome":
            continue  # warnings about the search itself (R4 allows them with search.mode = outcome)
        if not (isinstance(res.get("id"), str) and res["id"]):
            raise HisBadReply(f"{what}: entry {i} ({res['resourceType']}) has no id")
        out.append(res)
    links = body.get("link") or []
    nxt = None
    if isinstance(links, list):
        nxt = next((ln.get("url") for ln in links if isinstance(ln, dict) and ln.get("relation") == "next"), None)
    return out, nxt if isinstance(nxt, str) and nxt else None


def self_link(body) -> str:
    """The ``self`` link of a searchset ('' when absent)."""
    links = body.get("link") if isinstance(body, dict) else None
    for ln in links if isinstance(links, list) else []:
        if isinstance(ln, dict) and ln.get("relation") == "self" and isinstance(ln.get("url"), str):
            return ln["url"]
    return ""


def transaction_entries(body, count: int, what: str) -> list[dict]:
    """The ``count`` entries of a transaction-response Bundle, each with a
    ``response``, else HisBadReply."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise HisBadReply(f"{what}: expected a transaction-response Bundle, got {_kind(body)}")
    if body.get("type") not in ("transaction-response", "batch-response"):
        raise HisBadReply(f"{what}: expected a transaction-response Bundle, got type {str(body.get('type'))[:30]}")
    entries = body.get("entry")
    if not isinstance(entries, list) or len(entries) != count:
        got = len(entries) if isinstance(entries, list) else 0
        raise HisBadReply(f"{what}: expected {count} response entries, got {got}")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("response"), dict) \
                or not isinstance(entry["response"].get("status"), str):
            raise HisBadReply(f"{what}: response entry {i} has no response.status")
    return entries


def status_code(text: str) -> int:
    """'201 Created' -> 201 (0 when unreadable)."""
    head = str(text or "").strip().split(" ")[0]
    return int(head) if head.isdigit() else 0
