"""Tickets kept on disk for a day, so a ticket lost to a paper jam, an empty
roll or a patient who walked away can be reprinted (``kiosk reprint REF``).

One JSON file per ticket under ``<data_dir>/tickets/``, in the ticket's stored
record (``kiosk.ticket_record``, the outbox's shape too). A ticket holds only
the masked name (``kiosk.domain.Ticket`` never carries more), so the folder
holds nothing a passer-by could not already read on the printed slip.
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path

from devices.printer.errors import TicketNotFound
from kiosk.domain import Ticket
from kiosk.ticket_record import ticket_from_record, ticket_to_record

log = logging.getLogger(__name__)

KEEP_SECONDS = 24 * 3600
_SAFE_REF = re.compile(r"[^A-Za-z0-9_.-]")


class KeptTickets:
    def __init__(self, folder: Path, keep_seconds: float = KEEP_SECONDS):
        self.folder = Path(folder)
        self.keep_seconds = keep_seconds

    def _path(self, reference: str) -> Path:
        return self.folder / f"{_SAFE_REF.sub('_', reference)}.json"

    def keep(self, ticket: Ticket) -> Path:
        """Write the ticket (atomically) and drop tickets older than a day."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(ticket.reference)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(ticket_to_record(ticket), ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)
        self.prune()
        return path

    def prune(self, now: float | None = None) -> int:
        """Delete kept tickets older than ``keep_seconds``; returns how many."""
        limit = (now if now is not None else time.time()) - self.keep_seconds
        removed = 0
        for path in self.folder.glob("*.json"):
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
        return removed

    def all(self) -> list[Ticket]:
        """Kept tickets, newest first."""
        tickets = []
        for path in sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
            try:
                tickets.append(ticket_from_record(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError, KeyError):
                log.warning("unreadable kept ticket skipped", extra={"event": "printer.kept_unreadable",
                                                                     "file": path.name})
        return tickets

    def find(self, query: str) -> Ticket:
        """A ticket by its reference, the reference's first characters as
        printed on the slip (at least 6), or its queue label ("012", "K2-005")."""
        query = (query or "").strip()
        tickets = self.all()
        compact = query.replace("-", "").lower()
        matches = [tk for tk in tickets if tk.reference == query]
        if not matches and len(compact) >= 6:
            matches = [tk for tk in tickets if tk.reference.replace("-", "").lower().startswith(compact)]
        if not matches:
            matches = [tk for tk in tickets if tk.label == query]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise TicketNotFound(f"ticket {query!r} is ambiguous ({len(matches)} kept tickets match); "
                                 "give the reference printed under the QR code")
        raise TicketNotFound(f"no kept ticket matches {query!r} in {self.folder} (tickets are kept one day)")
