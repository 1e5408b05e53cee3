"""The kiosk's local SQLite database: opened in WAL mode, schema migrated.

Why these settings: WAL lets the sender read while a check-in writes and
keeps a crash from corrupting the file; ``synchronous=FULL`` makes every
committed check-in survive a power cut, not only a crashed process (the
outbox is the only copy of an offline check-in until it reaches the HIS).

Migrations are numbered functions; ``PRAGMA user_version`` holds the number
of the last one applied, and each runs in its own transaction with a row in
``schema_migrations``. Add a migration by appending a function to
``MIGRATIONS`` — never edit one that has shipped.
"""
from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_MS = 5000


class DatabaseClosed(sqlite3.ProgrammingError):
    """The database was closed (the kiosk is stopping): a background thread
    that still runs stops quietly instead of logging a traceback. Its claimed
    outbox entries go back to pending at the next start (their owner's pid is
    gone), and are verified in the HIS before anything is written again."""


def _v1_outbox(db: sqlite_utils.Database) -> None:
    """Local check-in records, their outbox entries, offline number counters."""
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["meta"].insert({"key": "patient_key_salt", "value": secrets.token_hex(16)})
    db["checkins"].create({
        "checkin_id": str,       # the idempotency key sent to the HIS
        "kiosk_id": str,
        "day": str,              # YYYY-MM-DD of issue (queue numbers are per day)
        "seq": int,              # n of the offline label K{slot}-{n}
        "queue_number": int,
        "queue_label": str,
        "department_code": str,
        "room_code": str,
        "issued_at": str,
        "ticket": str,           # ticket JSON (masked name only); blanked at purge
        "his_encounter_id": str,  # reconciliation: the visit the HIS holds for it
        "his_queue_label": str,
        "mapped_at": float,
    }, pk="checkin_id", not_null={"kiosk_id", "day", "queue_number", "queue_label", "department_code"})
    db["outbox"].create({
        "id": int,
        "checkin_id": str,
        "patient_key": str,      # salted hash of the citizen ID: keeps one patient's entries in order
        "payload": str,          # JSON with the identity: personal data, purged after delivery
        "state": str,            # pending / sending / delivered / dead
        "attempts": int,         # tries since the last manual retry (dead-letter counter)
        "tries_total": int,      # every try ever: > 0 means "ask the HIS first"
        "online_attempted": int,  # 1 when an online attempt may have reached the HIS
        "next_attempt_at": float,
        "lease_until": float,
        "lease_owner": str,
        "last_error": str,       # technical text only (error class, status, config key)
        "created_at": float,
        "updated_at": float,
        "delivered_at": float,
        "purged_at": float,
    }, pk="id", not_null={"checkin_id", "state", "created_at"},
        defaults={"state": "pending", "attempts": 0, "tries_total": 0, "online_attempted": 0,
                  "next_attempt_at": 0.0})
    db["outbox"].create_index(["checkin_id"], unique=True)
    db["outbox"].create_index(["state", "next_attempt_at"])
    db["outbox"].create_index(["patient_key", "id"])
    db["offline_numbers"].create({"day": str, "last_seq": int}, pk="day")


def _v2_reference_and_modes(db: sqlite_utils.Database) -> None:
    """Reference-data cache and the connectivity mode log."""
    db["ref_departments"].create({
        "code": str, "name": str, "name_en": str, "opening_hours": str, "service_id": str, "position": int,
    }, pk="code")
    db["ref_rooms"].create({
        "department_code": str, "code": str, "name": str, "where_text": str, "location_id": str, "position": int,
    }, pk=("department_code", "code"))
    db["mode_changes"].create({"id": int, "at": float, "mode": str, "reason": str}, pk="id")


def _v3_generation(db: sqlite_utils.Database) -> None:
    """The database's id and its high-water marks (see offline_cache.generation),
    counted from the rows already there; outbox rows recovered from a damaged
    database say where they came from (the sender asks the HIS first)."""
    queued = db.execute("SELECT count(*) FROM checkins").fetchone()[0]
    delivered = db.execute("SELECT count(*) FROM outbox WHERE state = 'delivered'").fetchone()[0]
    db["meta"].insert_all([{"key": "database_id", "value": str(uuid.uuid4())},
                           {"key": "queued_total", "value": str(queued)},
                           {"key": "delivered_total", "value": str(delivered)}], replace=True)
    db["outbox"].add_column("recovered_from", str)


def _v4_insurance_queue(db: sqlite_utils.Database) -> None:
    """BHYT work left for later: card checks that could not be made at check-in,
    Coverages that could not be written with the visit (offline_cache/insurance_queue.py)."""
    db["insurance_queue"].create({
        "id": int,
        "checkin_id": str,       # the visit the card belongs to (the HIS finds it by this id)
        "kiosk_id": str,
        "payload": str,          # JSON: card number, name, birth date, the answer, fee-paying: personal, purged
        "has_answer": int,       # 1 once the gateway answered about the card (only the HIS write is left)
        "state": str,            # pending / sending / done / dead
        "attempts": int,         # tries since the last manual retry (dead-letter counter)
        "tries_total": int,
        "next_attempt_at": float,
        "lease_until": float,
        "reason": str,           # why it was queued (technical text)
        "last_error": str,       # technical text only
        "outcome": str,          # what was done: status, result code, Coverage written / billed (no personal data)
        "created_at": float,
        "updated_at": float,
        "done_at": float,
        "purged_at": float,
    }, pk="id", not_null={"checkin_id", "state", "created_at"},
        defaults={"state": "pending", "has_answer": 0, "attempts": 0, "tries_total": 0, "next_attempt_at": 0.0})
    db["insurance_queue"].create_index(["checkin_id"], unique=True)
    db["insurance_queue"].create_index(["state", "next_attempt_at"])


MIGRATIONS = [_v1_outbox, _v2_reference_and_modes, _v3_generation, _v4_insurance_queue]
SCHEMA_VERSION = len(MIGRATIONS)


class LocalDatabase:
    """One connection shared by the kiosk's threads behind a lock (SQLite
    serialises writers anyway); other processes (the CLI) open their own."""

    def __init__(self, path: str | os.PathLike, *, target_version: int | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connect()
        self.lock = threading.RLock()
        self.generation = None     # offline_cache.generation.Generation, set by integrity.open_database
        self.process_lock = None   # held while open (see offline_cache.integrity)
        self.closed = False
        self.migrate(SCHEMA_VERSION if target_version is None else target_version)

    def _connect(self) -> None:
        new = not self.path.exists()
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False,
                                    timeout=BUSY_TIMEOUT_MS / 1000)
        if new:
            os.chmod(self.path, 0o600)  # personal data inside: owner only
        self.inode = self.path.stat().st_ino  # the file this connection writes (a replaced file is noticed)
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.db = sqlite_utils.Database(self.conn)

    # -- a file taken away while open ------------------------------------------
    def copy_to(self, target: Path) -> None:
        """Everything this connection sees, written to ``target`` (SQLite's backup
        API, owner-only), e.g. when its file was deleted or replaced underneath it."""
        with self.lock:
            self.check_open()
            target.unlink(missing_ok=True)
            copy = sqlite3.connect(str(target))
            try:
                self.conn.backup(copy)
            finally:
                copy.close()
            os.chmod(target, 0o600)

    def restore_in_place(self) -> None:
        """The file was deleted while this connection had it open (the connection
        still holds every row): write it back to its path and go on writing there.
        FileExistsError, before anything changes, when a file is at the path again."""
        with self.lock:
            self.check_open()
            if self.path.exists():
                raise FileExistsError(f"{self.path} exists again: not restored over it")
            restored = self.path.with_name(f"{self.path.name}.restoring-{os.getpid()}")
            self.copy_to(restored)
            os.link(restored, self.path)  # never over a file put there meanwhile (FileExistsError)
            restored.unlink()
            old = self.conn
            self._connect()
            old.close()  # the deleted file's last handle

    # -- schema -------------------------------------------------------------
    def version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self, target: int = SCHEMA_VERSION) -> list[int]:
        applied = []
        with self.lock:
            if "schema_migrations" not in self.db.table_names():
                self.db["schema_migrations"].create({"version": int, "name": str, "applied_at": float},
                                                    pk="version", if_not_exists=True)
            while self.version() < target:
                number = self.version() + 1
                step = MIGRATIONS[number - 1]
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    if self.version() >= number:  # another process got here first
                        self.conn.execute("ROLLBACK")
                        continue
                    step(self.db)
                    self.db["schema_migrations"].insert(
                        {"version": number, "name": step.__name__.lstrip("_"), "applied_at": time.time()})
                    self.conn.execute(f"PRAGMA user_version = {number}")
                    self.conn.execute("COMMIT")
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
                applied.append(number)
        return applied

    # -- transactions -------------------------------------------------------------
    def write(self):
        """``with database.write() as conn:`` — BEGIN IMMEDIATE … COMMIT under the lock."""
        return _Write(self)

    def read(self, sql: str, params=()) -> list[sqlite3.Row]:
        with self.lock:
            self.check_open()
            cur = self.conn.execute(sql, params)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, row)) for row in cur.fetchall()]

    def meta(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def check_open(self) -> None:
        if self.closed:
            raise DatabaseClosed(f"{self.path}: the database is closed (the kiosk is stopping)")

    def database_id(self) -> str:
        return self.meta("database_id") or ""

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.conn.close()
        if self.generation is not None:
            self.generation.close()
        if self.process_lock is not None:
            self.process_lock.release()
            self.process_lock = None


class _Write:
    def __init__(self, database: LocalDatabase):
        self.database = database

    def __enter__(self) -> sqlite3.Connection:
        self.database.lock.acquire()
        try:
            self.database.check_open()
            self.database.conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.database.lock.release()
            raise
        return self.database.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.database.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.database.lock.release()
