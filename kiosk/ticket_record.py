"""The ticket's stored record: the one JSON shape a ``Ticket`` is kept in.

Used by the outbox (``checkins.ticket``, offline_cache/outbox.py), the
kept-ticket store for ``kiosk reprint`` (devices/printer/kept.py) and, through
the outbox, the sender. Every field of ``kiosk.domain.Ticket`` is kept, under
its own name; ``issued_at`` as ISO 8601 with its UTC offset, ``priority`` as
its value.

Records written by earlier versions read into the same ticket: the outbox's
14-field record (no insurance_status, people_ahead, estimated_wait_min,
follow_url) and the kept-ticket file (all 18) use these same key names, so a
missing field simply takes its default. Keys this version does not know are
ignored, so a record written by a later version still reads. There is no
version marker: the key names are the version, and an extra key would make a
kiosk rolled back to the previous release skip its kept tickets.

A ticket holds only the masked name (never the citizen id, birth date or
address); the outbox's purge blanks ``masked_name`` in place with
``json_set(ticket, '$.masked_name', '')`` (``MASKED_NAME_PATH``).
"""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from kiosk.domain import Priority, Ticket

FIELDS = tuple(f.name for f in dataclasses.fields(Ticket))
REQUIRED = tuple(f.name for f in dataclasses.fields(Ticket)
                 if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
MASKED_NAME_PATH = "$.masked_name"  # the key the outbox's purge blanks (SQLite json_set)


def ticket_to_record(ticket: Ticket) -> dict[str, Any]:
    """The ticket as a JSON-ready dict, every field under its own name."""
    record = {name: getattr(ticket, name) for name in FIELDS}
    record["issued_at"] = ticket.issued_at.isoformat()
    record["priority"] = ticket.priority.value if ticket.priority else None
    return record


def ticket_from_record(record: dict, **defaults: Any) -> Ticket:
    """The ticket a stored record holds. A field the record lacks takes the
    value in ``defaults`` if given, else the ``Ticket`` default; a record
    without a required field, or with an unreadable date or priority, raises
    ``ValueError`` (naming the field only: a record carries a masked name)."""
    if not isinstance(record, dict):
        raise ValueError(f"ticket record is a {type(record).__name__}, not an object")
    values = {name: record[name] for name in FIELDS if name in record}
    for name, value in defaults.items():
        if name not in FIELDS:
            raise TypeError(f"Ticket has no field {name!r}")
        values.setdefault(name, value)
    missing = [name for name in REQUIRED if name not in values]
    if missing:
        raise ValueError(f"ticket record lacks {', '.join(missing)}")
    issued_at = values["issued_at"]
    values["issued_at"] = issued_at if isinstance(issued_at, datetime) else datetime.fromisoformat(issued_at)
    priority = values.get("priority")
    values["priority"] = Priority(priority) if priority else None
    return Ticket(**values)
