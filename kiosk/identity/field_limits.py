"""One length rule for text that comes from another party (the HIS, the BHXH
gateway) before it reaches a screen or a ticket.

Each kind of field has a bound that the ticket (wrapped over a few lines) and
the screens can show; a longer value is cut there with an ellipsis ("…"), and
the cut is logged — the field's kind and its length, never its value. The
adapters apply it where the other party's data enters the domain
(``fhir_his.mapping``, ``fhir_his.board``, ``bhxh_gateway.reply``).
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)

ELLIPSIS = "…"

# kind -> most characters shown (the ellipsis included)
LIMITS = {
    "name": 100,  # a patient's or a practitioner's name (as typed names: kiosk.identity.input_rules.NAME_MAX)
    "masked_name": 100,  # the board's masked name ("Nguyễn V. A.")
    "address": 300,
    "department": 80,  # a department's name (Vietnamese or English)
    "room": 60,  # a room's name
    "where": 80,  # where a room is (floor, building)
    "hours": 80,  # opening hours
    "code": 64,  # a department's or a room's code
    "label": 20,  # a queue label as the HIS wrote it ("K1-005")
    "message": 200,  # a result text from another party
}


def bounded(value, kind: str, *, source: str = "HIS"):
    """``value`` cut to the bound of ``kind`` (with an ellipsis), logged when
    cut; anything not a string (None, a number) is returned as it is."""
    limit = LIMITS[kind]
    if not isinstance(value, str) or len(value) <= limit:
        return value
    log.warning("field from another party cut to its length bound", extra={
        "event": "field.cut", "source": source, "field": kind, "length": len(value), "limit": limit})
    return value[:limit - len(ELLIPSIS)].rstrip() + ELLIPSIS
