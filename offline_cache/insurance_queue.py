"""The recheck queue: BHYT work left for later, durable in the kiosk's database.

Two kinds of work, one entry per check-in (keyed by its check-in id):

- a card check that could not be made at check-in (the gateway slow past
  ``insurance.timeout_s``, down, or refusing the kiosk's credentials): the
  patient went on with a ticket that says "not checked yet"; the worker
  (``offline_cache.insurance_sender``) asks the gateway again;
- an answer that is known but whose Coverage could not be written with the
  visit (the HIS slow or failing right after the check-in, or the outbox
  sender's write failing): only the HIS write is left.

Entry life, as in the outbox: ``pending`` → ``sending`` (claimed, with a
lease) → ``done``, or back to ``pending`` with a backoff
(``insurance.retry_base_s`` doubling up to ``insurance.retry_max_s``, with
jitter) and after ``insurance.max_attempts`` tries ``dead`` (staff look:
admin screen, ``kiosk doctor``, a metric). The payload — card number, name,
date of birth, the answer — is personal data: ``purge`` blanks it
``offline.retention_hours`` after the entry is done, as the outbox does.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date
from typing import Callable

from kiosk.domain import VisitCoverage
from kiosk.insurance.card_check import check_from_record
from kiosk.insurance.rules import needs_recheck
from offline_cache.db import LocalDatabase
from offline_cache.work_queue import DEAD, PENDING, SENDING, LeasedTable

DONE = "done"
__all__ = ["DEAD", "DONE", "PENDING", "SENDING", "InsuranceQueue", "QueuedCheck", "coverage_from", "coverage_json"]


def coverage_json(coverage: VisitCoverage | None) -> dict | None:
    """A ``VisitCoverage`` for the database (personal data: the outbox and this queue purge it)."""
    if coverage is None:
        return None
    born = coverage.birth_date
    return {"card_number": coverage.card_number, "full_name": coverage.full_name,
            "birth_date": born.isoformat() if isinstance(born, date) else born,
            "fee_paying": coverage.fee_paying,
            "check": coverage.check.to_record() if coverage.check is not None else None}


def coverage_from(d: dict | None) -> VisitCoverage | None:
    if not d:
        return None
    born = d.get("birth_date")
    return VisitCoverage(check=check_from_record(d["check"]) if d.get("check") else None,
                         card_number=d.get("card_number"), full_name=d.get("full_name"),
                         birth_date=date.fromisoformat(born) if isinstance(born, str) else born,
                         fee_paying=bool(d.get("fee_paying")))


@dataclass
class QueuedCheck:
    """A claimed entry."""

    id: int
    checkin_id: str
    coverage: VisitCoverage
    attempts: int


class InsuranceQueue(LeasedTable):
    """Implements ``kiosk.ports.CoverageQueue`` (and the worker's side of it)."""

    table, done_state = "insurance_queue", DONE

    LIST_COLUMNS = ("id", "checkin_id", "state", "has_answer", "attempts", "tries_total", "next_attempt_at",
                    "reason", "last_error", "outcome", "created_at", "done_at", "purged_at")

    def __init__(self, database: LocalDatabase, kiosk_id: str = ""):
        super().__init__(database)
        self.kiosk_id = kiosk_id
        self.on_enqueue: Callable[[], None] | None = None  # the worker's kick

    # -- the port --------------------------------------------------------------------------
    def enqueue(self, checkin_id: str, coverage: VisitCoverage, reason: str) -> bool:
        if needs_recheck(coverage.check) and not (coverage.card_number and coverage.full_name
                                                 and coverage.birth_date):
            return False  # nothing to ask the gateway with: the reception desk checks the card
        now = time.time()
        with self.database.write() as conn:
            conn.execute(
                "INSERT INTO insurance_queue(checkin_id, kiosk_id, payload, has_answer, state, reason, created_at,"
                " updated_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(checkin_id) DO NOTHING",
                (checkin_id, self.kiosk_id, json.dumps(coverage_json(coverage), ensure_ascii=False),
                 int(not needs_recheck(coverage.check)), PENDING, reason[:300], now, now))
        return True

    def kick(self) -> None:
        if self.on_enqueue is not None:
            self.on_enqueue()

    # -- the worker's side ---------------------------------------------------------------------
    def claim(self, limit: int, *, lease_s: float, now: float | None = None,
              ignore_backoff: bool = False) -> list[QueuedCheck]:
        now = now or time.time()
        due = "1" if ignore_backoff else "next_attempt_at <= :now"
        with self.database.write() as conn:
            rows = conn.execute(
                f"SELECT id, checkin_id, payload, attempts FROM insurance_queue WHERE (state = 'pending' OR"
                f" (state = 'sending' AND lease_until < :now)) AND {due} AND payload IS NOT NULL"
                f" ORDER BY id LIMIT :limit", {"now": now, "limit": limit}).fetchall()
            conn.executemany(
                "UPDATE insurance_queue SET state = 'sending', lease_until = ?, attempts = attempts + 1,"
                " tries_total = tries_total + 1, updated_at = ? WHERE id = ?",
                [(now + lease_s, now, r[0]) for r in rows])
        return [QueuedCheck(rid, cid, coverage_from(json.loads(payload)), attempts + 1)
                for rid, cid, payload, attempts in rows]

    def save_answer(self, entry_id: int, coverage: VisitCoverage) -> None:
        """The gateway answered about the card: only the HIS write is left."""
        with self.database.write() as conn:
            conn.execute("UPDATE insurance_queue SET payload = ?, has_answer = 1, updated_at = ? WHERE id = ?",
                         (json.dumps(coverage_json(coverage), ensure_ascii=False), time.time(), entry_id))

    def mark_done(self, entry_id: int, outcome: str) -> None:
        now = time.time()
        with self.database.write() as conn:
            conn.execute("UPDATE insurance_queue SET state = 'done', outcome = ?, done_at = ?, updated_at = ?,"
                         " last_error = NULL WHERE id = ?", (outcome[:300], now, now, entry_id))

    # -- staff (retry, counts, backlog: offline_cache.work_queue) ------------------------------
    def entries(self, state: str | None = None, limit: int = 200) -> list[dict]:
        """Entries as IT sees them: no card number, name or date of birth."""
        where, params = ("WHERE state = ?", (state, limit)) if state else ("", (limit,))
        return self.database.read(f"SELECT {', '.join(self.LIST_COLUMNS)} FROM insurance_queue {where}"
                                  f" ORDER BY id DESC LIMIT ?", params)

    def purge(self, retention_hours: float, *, now: float | None = None) -> int:
        """Blank the personal data of entries done more than ``retention_hours`` ago."""
        cutoff = (now or time.time()) - retention_hours * 3600
        with self.database.write() as conn:
            cur = conn.execute("UPDATE insurance_queue SET payload = NULL, purged_at = ? WHERE state = 'done'"
                               " AND purged_at IS NULL AND done_at <= ?", (time.time(), cutoff))
            return cur.rowcount
