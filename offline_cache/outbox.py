"""The durable outbox: offline check-ins waiting for the HIS (with their BHYT
card check's answer, which the sender records with the visit).

An offline check-in is one transaction: the day's next offline number, the
local check-in record (the ticket the patient holds) and its outbox entry.
The entry's idempotency key is the check-in id, which the HIS adapter puts
on the Encounter as an identifier and uses for conditional creates.

Entry life: ``pending`` → ``sending`` (claimed by one sender, with a lease
and the owner's pid so a killed process's claims are released) →
``delivered`` (seen in the HIS) or back to ``pending`` with a backoff, and
after ``offline.max_attempts`` failures ``dead`` (dead letter: staff must
look; ``kiosk outbox retry ID`` revives it). The identity in ``payload`` is
personal data: ``purge`` blanks it ``offline.retention_hours`` after delivery.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

from kiosk.domain import Assurance, CheckInRequest, Identity, IdentitySource, Priority, Ticket
from kiosk.ticket_record import MASKED_NAME_PATH, ticket_from_record, ticket_to_record
from offline_cache.db import LocalDatabase
from offline_cache.insurance_queue import coverage_from, coverage_json
from offline_cache.work_queue import DEAD, PENDING, SENDING, LeasedTable

DELIVERED = "delivered"
__all__ = ["DEAD", "DELIVERED", "PENDING", "SENDING", "Entry", "OutboxStore"]
# Columns safe to show IT (no personal data).
LIST_COLUMNS = ("id", "checkin_id", "state", "attempts", "tries_total", "next_attempt_at", "last_error",
                "created_at", "delivered_at", "purged_at")


@dataclass
class Entry:
    """A claimed outbox entry, with everything the sender needs."""

    id: int
    checkin_id: str
    request: CheckInRequest
    ticket: Ticket
    day: date
    arrived_at: datetime
    # tried before, an online attempt may have landed, or recovered from a damaged
    # database (``kiosk outbox recover`` sets online_attempted): ask the HIS first
    verify_first: bool
    attempts: int


def _identity_json(identity: Identity) -> dict:
    return {"citizen_id": identity.citizen_id, "source": identity.source.value,
            "assurance": identity.assurance.value, "full_name": identity.full_name,
            "birth_date": identity.birth_date.isoformat() if identity.birth_date else None,
            "sex": identity.sex, "address": identity.address}


def _identity_from(d: dict) -> Identity:
    return Identity(citizen_id=d["citizen_id"], source=IdentitySource(d["source"]),
                    assurance=Assurance(d["assurance"]), full_name=d.get("full_name"),
                    birth_date=date.fromisoformat(d["birth_date"]) if d.get("birth_date") else None,
                    sex=d.get("sex"), address=d.get("address"))


def _ticket_from(text: str) -> Ticket:
    """The ticket of a ``checkins.ticket`` column; rows from before the record
    carried ``offline`` were offline tickets."""
    return ticket_from_record(json.loads(text), offline=True)


class OutboxStore(LeasedTable):
    """Implements ``kiosk.checkin.offline_first.OfflineStore``
    (retry, counts, backlog, release, mark_failed: ``offline_cache.work_queue``)."""

    table, done_state, has_owner = "outbox", DELIVERED, True

    def __init__(self, database: LocalDatabase, kiosk_id: str = ""):
        super().__init__(database)
        self.kiosk_id = kiosk_id
        self._salt = (database.meta("patient_key_salt") or "").encode()
        self.owner = str(os.getpid())

    def patient_key(self, citizen_id: str) -> str:
        return hashlib.sha256(self._salt + citizen_id.encode()).hexdigest()[:24]

    # -- enqueue --------------------------------------------------------------------
    def enqueue_offline(self, request: CheckInRequest, day: date, make_ticket: Callable[[int], Ticket], *,
                        online_attempted: bool = False) -> Ticket:
        with self.database.write() as conn:
            row = conn.execute("SELECT ticket FROM checkins WHERE checkin_id = ?", (request.checkin_id,)).fetchone()
            if row:  # the same check-in retried: same ticket, no new number
                return _ticket_from(row[0])
            seq = conn.execute("INSERT INTO offline_numbers(day, last_seq) VALUES (?, 1) "
                               "ON CONFLICT(day) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
                               (day.isoformat(),)).fetchone()[0]
            ticket = make_ticket(seq)
            queued = self._insert(conn, request, ticket, day, seq, online_attempted)
        self._advance(queued_total=queued, offline_day=day.isoformat(), offline_seq=seq)
        return ticket

    def ticket_today(self, citizen_id: str, day: date, department_code: str, *,
                     other_than: str = "") -> Ticket | None:
        """The first ticket this kiosk gave the patient (citizen id, by its salted
        key) on ``day`` for the department — waiting, delivered or not — other
        than check-in ``other_than``'s: a second offline check-in sees the first."""
        rows = self.database.read(
            "SELECT c.ticket FROM checkins c JOIN outbox o ON o.checkin_id = c.checkin_id"
            " WHERE o.patient_key = ? AND c.day = ? AND c.department_code = ? AND c.checkin_id != ?"
            " AND c.ticket IS NOT NULL AND c.ticket != '' ORDER BY c.issued_at, o.id LIMIT 1",
            (self.patient_key(citizen_id), day.isoformat(), department_code, other_than))
        return _ticket_from(rows[0]["ticket"]) if rows else None

    def enqueue(self, request: CheckInRequest, ticket: Ticket) -> str:
        """Queue a check-in whose ticket is already numbered."""
        queued = None
        with self.database.write() as conn:
            if not conn.execute("SELECT 1 FROM checkins WHERE checkin_id = ?", (request.checkin_id,)).fetchone():
                queued = self._insert(conn, request, ticket, ticket.issued_at.date(), 0, False)
        if queued is not None:
            self._advance(queued_total=queued)
        return request.checkin_id

    def _advance(self, **marks) -> None:
        """Raise the generation record's marks after a commit (offline_cache.generation)."""
        generation = getattr(self.database, "generation", None)
        if generation is not None and any(v is not None for v in marks.values()):
            generation.advance(self.database.database_id(), **marks)

    @staticmethod
    def _bump(conn, key: str) -> int | None:
        """Count one more in ``meta.<key>`` inside the caller's transaction."""
        row = conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ? RETURNING value",
                           (key,)).fetchone()
        return int(row[0]) if row else None

    def _insert(self, conn, request: CheckInRequest, ticket: Ticket, day: date, seq: int,
                online_attempted: bool) -> int | None:
        """Insert the local record and its outbox entry; returns the new
        ``meta.queued_total`` (None on a database older than schema 3)."""
        now = time.time()
        conn.execute(
            "INSERT INTO checkins(checkin_id, kiosk_id, day, seq, queue_number, queue_label, department_code,"
            " room_code, issued_at, ticket) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (request.checkin_id, request.kiosk_id or self.kiosk_id, day.isoformat(), seq, ticket.number,
             ticket.label, ticket.department_code, ticket.room_code, ticket.issued_at.isoformat(),
             json.dumps(ticket_to_record(ticket), ensure_ascii=False)))
        payload = {"identity": _identity_json(request.identity), "department_code": request.department_code,
                   "declared_priority": request.declared_priority.value if request.declared_priority else None,
                   "kiosk_id": request.kiosk_id or self.kiosk_id,
                   "coverage": coverage_json(request.coverage)}  # the BHYT answer: written with the visit
        conn.execute(
            "INSERT INTO outbox(checkin_id, patient_key, payload, state, attempts, tries_total, online_attempted,"
            " next_attempt_at, created_at, updated_at) VALUES (?,?,?,?,0,0,?,?,?,?)",
            (request.checkin_id, self.patient_key(request.identity.citizen_id),
             json.dumps(payload, ensure_ascii=False), PENDING, int(online_attempted), now, now, now))
        return self._bump(conn, "queued_total")

    # -- queue state ------------------------------------------------------------------
    def oldest_waiting_age_s(self, now: float | None = None) -> float | None:
        row = self.database.read("SELECT min(created_at) AS t FROM outbox WHERE state IN ('pending','sending')")[0]
        return None if row["t"] is None else max(0.0, (now or time.time()) - row["t"])

    def entries(self, state: str | None = None, limit: int = 200) -> list[dict]:
        """Entries as IT sees them (no personal data), with their ticket label and mapping."""
        where = "WHERE o.state = ?" if state else ""
        params = (state, limit) if state else (limit,)
        return self.database.read(
            f"SELECT o.id, o.checkin_id, o.state, o.attempts, o.tries_total, o.next_attempt_at, o.last_error,"
            f" o.created_at, o.delivered_at, o.purged_at, c.queue_label, c.department_code, c.day,"
            f" c.his_encounter_id, c.his_queue_label FROM outbox o LEFT JOIN checkins c USING (checkin_id)"
            f" {where} ORDER BY o.id DESC LIMIT ?", params)

    def release_stale(self) -> int:
        """Claims of processes that no longer run (kill -9, power cut) go back to pending."""
        rows = self.database.read("SELECT id, lease_owner, lease_until FROM outbox WHERE state = 'sending'")
        stale = [r["id"] for r in rows if r["lease_owner"] != self.owner and
                 (not _pid_alive(r["lease_owner"]) or (r["lease_until"] or 0) < time.time())]
        if stale:
            with self.database.write() as conn:
                conn.executemany("UPDATE outbox SET state = 'pending', lease_owner = NULL WHERE id = ? "
                                 "AND state = 'sending'", [(i,) for i in stale])
        return len(stale)

    # -- the sender's side ---------------------------------------------------------------
    def claim(self, limit: int, *, lease_s: float, now: float | None = None, ignore_backoff: bool = False) -> list[Entry]:
        """Claim up to ``limit`` due entries, oldest first, at most the first
        waiting entry of each patient (their check-ins reach the HIS in order)."""
        now = now or time.time()
        due = "1" if ignore_backoff else "o.next_attempt_at <= :now"
        with self.database.write() as conn:
            rows = conn.execute(
                f"SELECT o.id, o.checkin_id, o.payload, o.attempts, o.tries_total, o.online_attempted, c.ticket, c.day"
                f" FROM outbox o JOIN checkins c USING (checkin_id)"
                f" WHERE (o.state = 'pending' OR (o.state = 'sending' AND o.lease_until < :now)) AND {due}"
                f" AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.patient_key = o.patient_key AND p.id < o.id"
                f"   AND p.state IN ('pending','sending'))"
                f" ORDER BY o.id LIMIT :limit", {"now": now, "limit": limit}).fetchall()
            conn.executemany(
                "UPDATE outbox SET state = 'sending', lease_until = ?, lease_owner = ?, attempts = attempts + 1,"
                " tries_total = tries_total + 1, updated_at = ? WHERE id = ?",
                [(now + lease_s, self.owner, now, r[0]) for r in rows])
        out = []
        for rid, cid, payload, attempts, tries, online_attempted, ticket, day in rows:
            p = json.loads(payload)
            t = _ticket_from(ticket)
            request = CheckInRequest(
                checkin_id=cid, identity=_identity_from(p["identity"]), department_code=p["department_code"],
                declared_priority=Priority(p["declared_priority"]) if p.get("declared_priority") else None,
                kiosk_id=p.get("kiosk_id", ""), coverage=coverage_from(p.get("coverage")))
            out.append(Entry(rid, cid, request, t, date.fromisoformat(day), t.issued_at,
                             verify_first=bool(tries or online_attempted), attempts=attempts + 1))
        return out

    def mark_delivered(self, entry_id: int, *, encounter_id: str, his_label: str, note: str | None = None) -> None:
        """Delivered onto the visit ``encounter_id``; ``note`` (no personal data)
        says why when it is not a visit of its own (a same-day duplicate)."""
        now = time.time()
        delivered = None
        with self.database.write() as conn:
            cur = conn.execute("UPDATE outbox SET state = 'delivered', delivered_at = ?, updated_at = ?,"
                               " last_error = ?, lease_owner = NULL WHERE id = ? AND state != 'delivered'",
                               (now, now, note, entry_id))
            if cur.rowcount:
                delivered = self._bump(conn, "delivered_total")
            conn.execute("UPDATE checkins SET his_encounter_id = ?, his_queue_label = ?, mapped_at = ?"
                         " WHERE checkin_id = (SELECT checkin_id FROM outbox WHERE id = ?)",
                         (encounter_id, his_label, now, entry_id))
        self._advance(delivered_total=delivered)

    # -- staff actions (retry: offline_cache.work_queue) ---------------------------------
    def purge(self, retention_hours: float, *, now: float | None = None) -> int:
        """Blank the personal data of entries delivered more than ``retention_hours`` ago."""
        cutoff = (now or time.time()) - retention_hours * 3600
        with self.database.write() as conn:
            ids = [r[0] for r in conn.execute(
                "SELECT checkin_id FROM outbox WHERE state = 'delivered' AND purged_at IS NULL AND delivered_at <= ?",
                (cutoff,)).fetchall()]
            conn.executemany("UPDATE outbox SET payload = NULL, patient_key = NULL, purged_at = ?"
                             " WHERE checkin_id = ?", [(time.time(), cid) for cid in ids])
            conn.executemany("UPDATE checkins SET ticket = json_set(ticket, ?, '') WHERE checkin_id = ?",
                             [(MASKED_NAME_PATH, cid) for cid in ids])
        return len(ids)


def _pid_alive(owner: str | None) -> bool:
    try:
        pid = int(owner or "")
    except ValueError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
