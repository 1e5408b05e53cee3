"""`kiosk outbox recover FILE`: salvage the check-ins of a damaged (or moved
aside) outbox database into the live one.

Why it cannot send anything twice: every recovered entry is marked
(``online_attempted = 1``, ``recovered_from = FILE``) so the sender first asks
the HIS whether the visit already exists (``Entry.verify_first``); a check-in
id the live database already holds is skipped; running it twice imports
nothing the second time.

How it reads a damaged file: the file (and its ``-wal``/``-shm``) is copied
to a scratch folder — the kept file is never changed. A file whose 100-byte
header was overwritten gets a standard SQLite header back. Each table is read
whole if SQLite can, else row by row (by rowid). When SQLite cannot walk a
table at all (pages cut off or overwritten), the rows on the intact pages are
read straight from the file (``offline_cache.page_scan``). A recovered row is
used only when its check-in record and its outbox entry are both readable and
make sense (valid JSON, a 12-digit ID); the rest is reported, never guessed,
with how many of the check-ins the incident said were waiting are missing.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import struct
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kiosk.domain import is_valid_citizen_id
from offline_cache.db import LocalDatabase
from offline_cache.outbox import OutboxStore
from offline_cache.page_scan import scan

CHECKIN_COLUMNS = ("checkin_id", "kiosk_id", "day", "seq", "queue_number", "queue_label", "department_code",
                   "room_code", "issued_at", "ticket", "his_encounter_id", "his_queue_label", "mapped_at")
OUTBOX_COLUMNS = ("id", "checkin_id", "payload", "state", "tries_total", "created_at", "delivered_at",
                  "purged_at", "last_error")
# every column of the outbox table in file order (schema 3 added recovered_from)
OUTBOX_FILE_ORDER = ("id", "checkin_id", "patient_key", "payload", "state", "attempts", "tries_total",
                     "online_attempted", "next_attempt_at", "lease_until", "lease_owner", "last_error", "created_at",
                     "updated_at", "delivered_at", "purged_at", "recovered_from")
STATES = ("pending", "sending", "delivered", "dead")
# the BHYT recheck queue (schema 4): what is still to do is carried over
RECHECK_COLUMNS = ("checkin_id", "kiosk_id", "payload", "has_answer", "state", "tries_total", "reason", "created_at")
HEADER = b"SQLite format 3\x00"
MAX_PROBE_MISSES = 2000


@dataclass
class RecoveryReport:
    source: str
    header_repaired: bool = False
    pages_scanned: int = 0           # table pages read directly (SQLite could not walk a table)
    expected_waiting: int | None = None  # what the incident said was waiting (generation record)
    checkins_read: int = 0
    outbox_read: int = 0
    unreadable_rows: int = 0         # rows SQLite could not read (damaged pages)
    incomplete: int = 0              # a check-in without its outbox entry or the reverse, or garbled
    imported_waiting: int = 0        # now waiting in the live database (the HIS is asked first)
    imported_dead: int = 0
    imported_delivered: int = 0
    already_present: int = 0
    rechecks_imported: int = 0       # BHYT checks still to make or to record, now in the live recheck queue
    rechecks_unreadable: bool = False  # the recheck queue of the file could not be read by SQLite
    error: str = ""
    resolved_incidents: list[int] = field(default_factory=list)

    @property
    def missing(self) -> int:
        """Check-ins the incident said were waiting that are neither recovered nor already here."""
        if self.expected_waiting is None:
            return 0
        return max(0, self.expected_waiting - self.imported_waiting - self.already_present)

    @property
    def complete(self) -> bool:
        """Everything was read: the incident can be closed."""
        return not (self.error or self.unreadable_rows or self.incomplete or self.missing)

    @property
    def imported(self) -> int:
        return self.imported_waiting + self.imported_dead + self.imported_delivered

    def to_json(self) -> dict:
        return {**asdict(self), "imported": self.imported, "missing": self.missing, "complete": self.complete}

    def lines(self) -> list[str]:
        if self.error:
            return [f"{self.source}: nothing could be read ({self.error})"]
        out = [f"{self.source}: read {self.checkins_read} check-in record(s) and {self.outbox_read} outbox "
               f"entr{'y' if self.outbox_read == 1 else 'ies'}" + (" (damaged header replaced)" if self.header_repaired
                                                                   else ""),
               f"recovered {self.imported}: {self.imported_waiting} now waiting to be sent (the HIS is asked first "
               f"whether each visit exists), {self.imported_dead} dead letter(s), {self.imported_delivered} already "
               f"delivered; {self.already_present} were already in the live database"]
        if self.rechecks_imported:
            out.append(f"{self.rechecks_imported} BHYT check(s) still to make or record: back in the recheck queue")
        if self.rechecks_unreadable:
            out.append("the BHYT recheck queue could not be read: the reception desk checks the cards of the "
                       "recovered check-ins (`kiosk insurance check`)")
        if self.pages_scanned:
            out.append(f"SQLite could not walk the tables: {self.pages_scanned} intact page(s) were read directly")
        missing = self.missing
        if self.unreadable_rows or self.incomplete or missing > 0:
            out.append(f"NOT recovered: {self.unreadable_rows} unreadable row(s), {self.incomplete} incomplete or "
                       "garbled record(s)" + (f", {missing} of the {self.expected_waiting} check-in(s) that were "
                                              "waiting" if missing > 0 else "")
                       + " — look for these check-ins on the offline paper tickets")
        else:
            out.append("nothing unreadable")
        return out


def _copy(source: Path, scratch: Path) -> Path:
    target = scratch / "salvage.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(source) + suffix)
        if src.exists():
            shutil.copyfile(src, str(target) + suffix)
    if not target.exists():  # only a -wal was kept: nothing to read it against
        raise FileNotFoundError(f"{source} does not exist")
    return target


def _readable(path: Path) -> bool:
    try:
        conn = sqlite3.connect(str(path))
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return True
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False


def _repair_header(path: Path) -> bool:
    """Write a standard header over a damaged one; True when SQLite can then read it."""
    data = path.read_bytes()
    if len(data) < 512 or data[:16] == HEADER:
        return False
    original = data[:100]
    for page_size in (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512):
        if len(data) % page_size:
            continue
        header = bytearray(100)
        header[0:16] = HEADER
        struct.pack_into(">H", header, 16, 1 if page_size == 65536 else page_size)
        header[18], header[19] = 1, 1          # legacy journal (no WAL needed to read)
        header[21], header[22], header[23] = 64, 32, 32  # payload fractions (fixed values)
        struct.pack_into(">I", header, 24, 1)   # change counter …
        struct.pack_into(">I", header, 28, len(data) // page_size)  # … and database size, valid together
        struct.pack_into(">I", header, 40, 1)   # schema cookie
        struct.pack_into(">I", header, 44, 4)   # schema format
        struct.pack_into(">I", header, 56, 1)   # UTF-8
        struct.pack_into(">I", header, 92, 1)   # version-valid-for = change counter
        struct.pack_into(">I", header, 96, 3045000)
        with open(path, "r+b") as fh:
            fh.write(bytes(header))
        if _readable(path):
            return True
        with open(path, "r+b") as fh:
            fh.write(original)
    return False


def _rows(conn: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> tuple[list[dict], int]:
    """(rows, unreadable count): the whole table if SQLite can, else row by row."""
    cols = ", ".join(columns)
    try:
        return [dict(zip(columns, r)) for r in conn.execute(f"SELECT {cols} FROM {table}").fetchall()], 0
    except sqlite3.DatabaseError:
        pass
    try:
        top = conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0]
    except sqlite3.DatabaseError:
        top = None
    rows, unreadable, misses, rowid = [], 0, 0, 0
    while (top is not None and rowid < top) or (top is None and misses < MAX_PROBE_MISSES):
        rowid += 1
        try:
            row = conn.execute(f"SELECT {cols} FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            unreadable += 1
            misses = 0 if top is not None else misses + 1
            continue
        if row is None:
            misses += 1
            continue
        misses = 0
        rows.append(dict(zip(columns, row)))
    return rows, unreadable


def _scanned_rows(data: bytes) -> tuple[list[dict], list[dict], int, int]:
    """(check-ins, outbox entries, pages, bad cells) read from the pages,
    recognised by their shape; of two copies of a row (a stale one on a freed
    page) the more recent is kept."""
    found = scan(data)
    checkins: dict[str, dict] = {}
    entries: dict[int, dict] = {}
    for rowid, values in found.records:
        if len(values) == len(CHECKIN_COLUMNS) and isinstance(values[0], str) and isinstance(values[2], str):
            row = dict(zip(CHECKIN_COLUMNS, values))
            old = checkins.get(row["checkin_id"])
            if old is None or (row["mapped_at"] or 0) > (old["mapped_at"] or 0):
                checkins[row["checkin_id"]] = row
        elif len(values) in (16, 17) and values[0] is None and values[4] in STATES:
            row = dict(zip(OUTBOX_FILE_ORDER, values))
            row["id"] = rowid
            old = entries.get(rowid)
            if old is None or (row["updated_at"] or 0) > (old["updated_at"] or 0):
                entries[rowid] = {c: row.get(c) for c in OUTBOX_COLUMNS}
    return list(checkins.values()), list(entries.values()), found.pages, found.bad_cells


def _usable(checkin: dict, entry: dict) -> bool:
    try:
        ticket = json.loads(checkin["ticket"])
        assert isinstance(ticket, dict) and ticket.get("label") and ticket.get("department_code")
        if entry["state"] != "delivered" or entry["payload"]:
            payload = json.loads(entry["payload"])
            assert is_valid_citizen_id(payload["identity"]["citizen_id"])
        return bool(checkin["day"] and checkin["queue_label"])
    except (AssertionError, KeyError, TypeError, ValueError):
        return False


def _rechecks(conn: sqlite3.Connection, report: RecoveryReport) -> list[dict]:
    """The BHYT rechecks still to do (pending, sending, dead) that SQLite can read; a
    damaged table is reported (``rechecks_unreadable``), never guessed from pages."""
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'insurance_queue'").fetchone():
            return []  # a database from before the recheck queue
        rows, bad = _rows(conn, "insurance_queue", RECHECK_COLUMNS)
    except sqlite3.DatabaseError:
        rows, bad = [], 1
    report.rechecks_unreadable = bad > 0
    usable = []
    for row in rows:
        try:
            assert row["checkin_id"] and row["state"] in ("pending", "sending", "dead")
            assert isinstance(json.loads(row["payload"]), dict)
        except (AssertionError, TypeError, ValueError):
            continue  # done, purged or garbled: nothing left to do with it
        usable.append(row)
    return usable


def salvage(source: str | os.PathLike) -> tuple[list[tuple[dict, dict]], list[dict], RecoveryReport]:
    """The usable (check-in, outbox entry) pairs of ``source``, its BHYT
    rechecks still to do, and what was not usable."""
    source = Path(source)
    report = RecoveryReport(str(source))
    with tempfile.TemporaryDirectory(prefix="kiosk-recover-") as scratch:
        try:
            copy = _copy(source, Path(scratch))
        except OSError as exc:
            report.error = exc.strerror or str(exc)
            return [], [], report
        readable = _readable(copy)
        if not readable:
            report.header_repaired = readable = _repair_header(copy)  # True: SQLite reads it now
        checkins, entries, rechecks, walked = [], [], None, False
        if readable:
            conn = sqlite3.connect(str(copy))
            try:
                conn.execute("PRAGMA writable_schema = ON")  # tolerate a damaged schema entry (read only here)
                checkins, bad_c = _rows(conn, "checkins", CHECKIN_COLUMNS)
                entries, bad_o = _rows(conn, "outbox", OUTBOX_COLUMNS)
                report.unreadable_rows = bad_c + bad_o
                walked = not report.unreadable_rows
                rechecks = _rechecks(conn, report)
            except sqlite3.DatabaseError:
                checkins, entries = [], []
            finally:
                conn.close()
        if not walked:  # read the intact pages directly, keep what SQLite could read
            s_checkins, s_entries, pages, bad_cells = _scanned_rows(copy.read_bytes())
            known_c = {c["checkin_id"] for c in checkins}
            known_o = {e["id"] for e in entries}
            checkins += [c for c in s_checkins if c["checkin_id"] not in known_c]
            entries += [e for e in s_entries if e["id"] not in known_o]
            report.pages_scanned = pages
            report.unreadable_rows += bad_cells
            if not checkins and not entries and not pages:
                report.error = "not an SQLite database, and no table page could be read"
                report.rechecks_unreadable = rechecks is None
                return [], [], report
    if rechecks is None:  # SQLite could not open the file: the recheck queue is not read from pages
        rechecks, report.rechecks_unreadable = [], True
    report.checkins_read, report.outbox_read = len(checkins), len(entries)
    by_id = {c["checkin_id"]: c for c in checkins if c.get("checkin_id")}
    pairs = []
    for entry in sorted(entries, key=lambda e: e["id"] or 0):
        checkin = by_id.pop(entry.get("checkin_id"), None)
        if checkin is None or not _usable(checkin, entry):
            report.incomplete += 1
            continue
        pairs.append((checkin, entry))
    report.incomplete += len(by_id)  # check-in records whose outbox entry was lost
    return pairs, rechecks, report


def recover_into(database: LocalDatabase, source: str | os.PathLike) -> RecoveryReport:
    """Import the salvage of ``source`` into ``database`` (see module doc)."""
    source = Path(source)
    if source.resolve() == Path(database.path).resolve():
        report = RecoveryReport(str(source))
        report.error = "this is the live database, not a kept copy"
        return report
    pairs, rechecks, report = salvage(source)
    if database.generation is not None:
        record = database.generation.load()
        for incident in (record.open_incidents() if record else []):
            if incident.kept_file and Path(incident.kept_file).resolve() == source.resolve():
                report.expected_waiting = incident.waiting_estimate
    store = OutboxStore(database)
    now = time.time()
    queued = delivered = None
    with database.write() as conn:
        for checkin, entry in pairs:
            if conn.execute("SELECT 1 FROM checkins WHERE checkin_id = ?", (checkin["checkin_id"],)).fetchone():
                report.already_present += 1
                continue
            conn.execute(f"INSERT INTO checkins({', '.join(CHECKIN_COLUMNS)}) VALUES "
                         f"({', '.join('?' * len(CHECKIN_COLUMNS))})", [checkin[c] for c in CHECKIN_COLUMNS])
            state = {"sending": "pending"}.get(entry["state"], entry["state"])
            if state not in ("pending", "dead", "delivered"):
                state = "pending"
            payload = entry["payload"]
            key = store.patient_key(json.loads(payload)["identity"]["citizen_id"]) if payload else None
            conn.execute(
                "INSERT INTO outbox(checkin_id, patient_key, payload, state, attempts, tries_total, online_attempted,"
                " next_attempt_at, last_error, created_at, updated_at, delivered_at, purged_at, recovered_from)"
                " VALUES (?,?,?,?,0,?,1,0,?,?,?,?,?,?)",
                (checkin["checkin_id"], key, payload, state, entry["tries_total"] or 0,
                 f"recovered from {source.name}" if state != "delivered" else entry["last_error"],
                 entry["created_at"] or now, now, entry["delivered_at"], entry["purged_at"], str(source)))
            queued = store._bump(conn, "queued_total")
            if state == "delivered":
                delivered = store._bump(conn, "delivered_total")
                report.imported_delivered += 1
            elif state == "dead":
                report.imported_dead += 1
            else:
                report.imported_waiting += 1
            if checkin["seq"]:  # later offline numbers of that day continue after it
                conn.execute("INSERT INTO offline_numbers(day, last_seq) VALUES (?, ?) ON CONFLICT(day) DO UPDATE"
                             " SET last_seq = max(last_seq, excluded.last_seq)", (checkin["day"], checkin["seq"]))
        for row in rechecks:  # a card check or a Coverage write still to do: back in the queue, once
            cur = conn.execute(
                "INSERT INTO insurance_queue(checkin_id, kiosk_id, payload, has_answer, state, tries_total, reason,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(checkin_id) DO NOTHING",
                (row["checkin_id"], row["kiosk_id"], row["payload"], row["has_answer"] or 0,
                 "dead" if row["state"] == "dead" else "pending", row["tries_total"] or 0,
                 f"recovered from {source.name}: {row['reason'] or ''}"[:300], row["created_at"] or now, now))
            report.rechecks_imported += cur.rowcount
    store._advance(queued_total=queued, delivered_total=delivered)
    if database.generation is not None and report.complete:
        summary = f"recovered {report.imported} check-in(s), nothing unreadable"
        report.resolved_incidents = [i.id for i in database.generation.resolve(None, summary, kept_file=str(source))]
    return report
