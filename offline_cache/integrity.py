"""Opening the outbox database safely: a damaged local database never stops the
kiosk, and queued check-ins are never lost without a FAIL that says so.

At every open (``open_database``, through ``open_checked``):

1. The file is checked with ``PRAGMA quick_check`` (fast: no index
   cross-check). A file SQLite cannot read ("file is not a database",
   "malformed") is *damaged*.
2. It is compared with its generation record (``offline_cache.generation``):
   a database that is missing, 0 bytes, has another database id (emptied and
   recreated, or another kiosk's file copied over it) or holds fewer check-ins
   than were ever queued in it has *lost rows*.
3. A damaged, emptied or foreign file — with its ``-wal`` and ``-shm`` — is
   moved aside, never deleted: ``kiosk.sqlite3.damaged-YYYYmmdd-HHMMSS``
   (``.emptied-…``, ``.other-database-…``), and a fresh database is created;
   the kiosk goes on working online and offline (offline numbers continue
   after the last one issued, from the record). Each finding is an incident in
   the generation record: ``kiosk doctor`` FAILs, ``kiosk outbox list`` and the
   admin screen say what happened, and ``kiosk outbox recover FILE`` salvages
   what is readable.

While the kiosk runs (``check_live``, from the outbox sender every 5 minutes)
the same comparison is made; a file deleted under the open connection is
written back to its path from that connection (nothing lost), and of a file
replaced underneath it, what the connection holds is copied beside it.

Only a process that has the database to itself may move it: every process
holds a shared lock on ``kiosk.sqlite3.lock`` while the database is open, and
the check takes it exclusively first. A damaged database that another process
still uses raises ``OutboxUnavailable`` (the kiosk then works online only).
"""
from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.operations import metrics
from offline_cache.db import LocalDatabase
from offline_cache.generation import Generation, Incident, Record

log = logging.getLogger(__name__)

LOCK_WAIT_S = 10.0


class OutboxUnavailable(KioskError):
    """The local database cannot be used now (damaged while another process
    has it open, or it cannot be created). Online check-ins still work."""


class ProcessLock:
    """``flock`` on ``<database>.lock``: shared while open, exclusive to check."""

    def __init__(self, database_path: Path):
        self.path = database_path.with_name(database_path.name + ".lock")
        self.fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def try_exclusive(self) -> bool:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def shared(self) -> None:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OutboxUnavailable(f"{self.path}: another process has been checking the database for "
                                            f"{LOCK_WAIT_S:.0f} s") from None
                time.sleep(0.05)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the lock
            self.fd = None


def damage(path: Path) -> str | None:
    """Why SQLite cannot use the file (None when it can or it is empty/missing)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        conn = sqlite3.connect(str(path), timeout=5)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchmany(10)]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    return None if rows == ["ok"] else "quick_check: " + "; ".join(map(str, rows))[:300]


def _facts(path: Path) -> tuple[str | None, int]:
    """(database id, check-ins held) of a readable database file (read-only)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
            db_id = row[0] if row else None
        except sqlite3.OperationalError:
            db_id = None
        try:
            held = conn.execute("SELECT count(*) FROM checkins").fetchone()[0]
        except sqlite3.OperationalError:
            held = 0
        return db_id, held
    finally:
        conn.close()


def move_aside(path: Path, kind: str) -> Path | None:
    """Rename the file and its -wal/-shm to ``<name>.<kind>-<timestamp>``
    (kept for IT). None when there was nothing to move."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.{kind}-{stamp}")
    n = 1
    while any(Path(str(kept) + s).exists() for s in ("", "-wal", "-shm")):
        n += 1
        kept = path.with_name(f"{path.name}.{kind}-{stamp}-{n}")
    moved = False
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            os.rename(src, str(kept) + suffix)
            moved = True
    return kept if moved else None


def _kept_name(kept: Path | None) -> str | None:
    if kept is None:
        return None
    return str(kept) if kept.exists() else str(kept) + "-wal"


def compare_with_record(path: Path, record: Record | None) -> tuple[str, str, int | None] | None:
    """The one comparison of the database file with its generation record, used
    at start-up, while the kiosk runs and by ``kiosk doctor``: (kind, detail,
    check-ins that may be lost) when the file no longer holds what was queued in
    it, else None. Reads the file read-only with a connection of its own."""
    if record is None or not record.database_id:
        return None
    if not path.exists() or path.stat().st_size == 0:
        if record.queued_total == 0 and not Path(str(path) + "-wal").exists():
            return None  # nothing was ever queued in it: nothing lost
        what = "deleted" if not path.exists() else "truncated to 0 bytes"
        return ("missing" if not path.exists() else "emptied"), f"the outbox database was {what}", record.waiting
    db_id, held = _facts(path)
    if db_id is None:
        return "emptied", "the outbox database was replaced by an empty one", record.waiting
    if db_id != record.database_id:
        return "other_database", (f"the outbox database is not the one this kiosk wrote (database id {db_id[:8]}…, "
                                  f"expected {record.database_id[:8]}…): replaced by another file"), record.waiting
    if held < record.queued_total:
        return "rows_lost", (f"the outbox database holds {held} check-in(s) but {record.queued_total} were "
                             "queued in it: rows were deleted"), record.queued_total - held
    return None


def _inspect(path: Path, record: Record | None) -> tuple[str, str, int | None, str] | None:
    """(kind, detail, check-ins that may be lost, what to do) when the file must not
    be used as it is: what="move" (set it aside, start fresh) or "keep" (use it, report)."""
    problem = damage(path)
    if problem:
        return "damaged", f"the outbox database was damaged ({problem})", _waiting(record), "move"
    finding = compare_with_record(path, record)
    if finding is None:
        return None
    return (*finding, "keep" if finding[0] == "rows_lost" else "move")


def _waiting(record: Record | None) -> int | None:
    return record.waiting if record is not None and record.database_id else None


def open_checked(path: str | os.PathLike) -> LocalDatabase:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = ProcessLock(path)
    except OSError as exc:
        raise OutboxUnavailable(f"{path}: the outbox database cannot be created ({exc.strerror or exc})") from None
    try:
        exclusive = lock.try_exclusive()
        if not exclusive:
            lock.shared()
        generation = Generation(path)
        record = generation.load()
        finding = _inspect(path, record)
        incident = None
        if finding is not None:
            kind, detail, waiting, action = finding
            if action == "move" and not exclusive:
                raise OutboxUnavailable(f"{path}: {detail}, and another kiosk process has it open: stop that "
                                        "process (systemctl stop kiosk), then run this again")
            kept = move_aside(path, kind.replace("_", "-")) if action == "move" else None
            with generation.locked() as rec:
                incident = rec.add_incident(kind, detail, _kept_name(kept), waiting)
                if action == "move":  # a new generation starts
                    rec.database_id, rec.queued_total, rec.delivered_total = "", 0, 0
            log.error("outbox database problem: %s", incident.describe(), extra={
                "event": "outbox.database_incident", "kind": kind, "kept_file": incident.kept_file,
                "waiting_estimate": incident.waiting_estimate})
        elif record is None and path.exists() and path.stat().st_size > 0:
            log.info("no generation record beside the outbox database: starting one",
                     extra={"event": "outbox.generation_started"})
        try:
            database = LocalDatabase(path)
        except sqlite3.Error as exc:  # e.g. a folder without write permission
            raise OutboxUnavailable(f"{path}: the outbox database cannot be opened ({exc})") from None
        database.generation = generation
        database.process_lock = lock
        _sync_record(database, generation, reset_marks=incident is not None and incident.kind == "rows_lost")
        export_recovery_metric(generation)
        return database
    except BaseException:
        lock.release()
        raise


def open_database(config_or_path) -> LocalDatabase:
    """The kiosk database at ``config.database_path()`` (or a path), checked
    (a damaged, emptied or foreign file is moved aside and a fresh one created,
    the incident recorded) and migrated."""
    path = config_or_path.database_path() if hasattr(config_or_path, "database_path") else config_or_path
    return open_checked(path)


def _sync_record(database: LocalDatabase, generation: Generation, *, reset_marks: bool) -> None:
    """Bring the record and the database in line after the checks: the record
    takes the database's id and marks; a fresh database continues the offline
    numbers of the record's last day."""
    db_id = database.database_id()
    with generation.locked() as rec:
        with database.write() as conn:
            held = conn.execute("SELECT count(*) FROM checkins").fetchone()[0]
            delivered = conn.execute("SELECT count(*) FROM outbox WHERE state = 'delivered'").fetchone()[0]
            if reset_marks:  # rows were lost and reported: count from what is there now
                conn.execute("UPDATE meta SET value = ? WHERE key = 'queued_total'", (str(held),))
                conn.execute("UPDATE meta SET value = ? WHERE key = 'delivered_total'", (str(delivered),))
            if rec.offline_day and rec.offline_last_seq:
                conn.execute("INSERT INTO offline_numbers(day, last_seq) VALUES (?, ?) ON CONFLICT(day) DO UPDATE"
                             " SET last_seq = max(last_seq, excluded.last_seq)", (rec.offline_day, rec.offline_last_seq))
            queued = int(database.meta("queued_total") or held)
        if rec.database_id != db_id or reset_marks:
            rec.database_id, rec.queued_total, rec.delivered_total = db_id, queued, delivered
        else:
            rec.queued_total = max(rec.queued_total, queued)
            rec.delivered_total = max(rec.delivered_total, delivered)


def open_incidents(generation_or_path) -> list:
    generation = generation_or_path if isinstance(generation_or_path, Generation) else Generation(generation_or_path)
    record = generation.load()
    return record.open_incidents() if record else []


def export_recovery_metric(generation: Generation) -> int:
    """``kiosk_outbox_recovery_needed``: open incidents of the outbox database."""
    count = len(open_incidents(generation))
    metrics.OUTBOX_RECOVERY_NEEDED.set(count)
    return count


# --- while the kiosk runs -------------------------------------------------------------

LIVE_CHECK_EVERY_S = 300.0  # the outbox sender looks at its database this often


def _live_finding(database: LocalDatabase, record: Record) -> tuple[str, str, int | None] | None:
    """(kind, detail, check-ins that may be lost) when the open database is no longer sound."""
    path = Path(database.path)
    try:
        inode = path.stat().st_ino
    except FileNotFoundError:
        return ("missing", "the outbox database file was deleted while the kiosk ran (the kiosk writes into the "
                "deleted file until it restarts)", record.waiting)
    if inode != database.inode:
        return ("other_database", "the outbox database file was replaced while the kiosk ran (the kiosk writes "
                "into the old file until it restarts)", record.waiting)
    problem = damage(path)  # a connection of its own: what is on the disk now, not this one's page cache
    if problem is None:
        try:
            finding = compare_with_record(path, record)
        except sqlite3.DatabaseError as exc:
            problem = str(exc)
    if problem:
        return "damaged", f"the outbox database was damaged while the kiosk ran ({problem})", record.waiting
    if finding is not None and finding[0] == "rows_lost":
        return finding[0], finding[1] + " while the kiosk ran", finding[2]
    return finding


def check_live(database: LocalDatabase) -> Incident | None:
    """The open database, looked at while the kiosk runs: still the file it opened,
    sound (``PRAGMA quick_check``), and holding every check-in the generation record
    says was queued in it. A finding becomes an incident once (the alarm: an error in
    the log, ``kiosk_outbox_recovery_needed``, ``kiosk doctor`` FAIL, the admin screen);
    the kiosk goes on, and the next start sets a bad file aside as usual. A deleted
    file is written back from the open connection (nothing lost; its record too, if
    it went with it); of a replaced one, what the kiosk holds is copied beside it."""
    generation = database.generation
    if generation is None:
        return None
    record = generation.load()
    if record is None or not record.database_id:
        if Path(database.path).exists():
            return None
        record = Record()  # the record went with the file (rm kiosk.sqlite3*): the open connection still knows
    finding = _live_finding(database, record)
    if finding is None:
        return None
    kind, detail, waiting = finding
    if kind == "missing" and _restored(database):
        _sync_record(database, generation, reset_marks=False)  # the record again, if it was deleted too
        with generation.locked() as rec:
            incident = rec.add_incident(kind, detail + "; restored from the kiosk's open connection: nothing lost",
                                        None, 0, live=True)
            incident.resolved_at, incident.resolution = time.time(), "restored in place while the kiosk ran"
        log.error("the outbox database file was deleted while the kiosk ran; restored in place from the open "
                  "connection, nothing lost", extra={"event": "outbox.database_restored", "incident": incident.id})
        export_recovery_metric(generation)
        return incident
    reported = next((i for i in record.incidents if i.open and i.kind == kind and i.live), None)
    if reported is not None:
        if reported.kept_file:
            _rescue(database, kind, Path(reported.kept_file))  # the copy follows what the kiosk queued since
        return None  # reported already
    kept = _rescue(database, kind)  # outside the record's lock: check-ins go on meanwhile
    with generation.locked() as rec:
        incident = rec.add_incident(kind, detail + (f"; what the kiosk holds was copied to {kept.name}" if kept
                                                    else ""), _kept_name(kept), waiting, live=True)
    log.error("outbox database problem: %s", incident.describe(), extra={
        "event": "outbox.database_incident", "kind": kind, "live": True, "waiting_estimate": waiting})
    export_recovery_metric(generation)
    return incident


def _restored(database: LocalDatabase) -> bool:
    try:
        database.restore_in_place()
        return True
    except (OSError, sqlite3.Error) as exc:
        log.error("the deleted outbox database could not be restored in place (%s)", type(exc).__name__,
                  extra={"event": "outbox.database_restore_failed", "error": str(exc)[:200]})
        return False


def _rescue(database: LocalDatabase, kind: str, target: Path | None = None) -> Path | None:
    """A replaced file: copy what the open connection holds beside it (for
    ``kiosk outbox recover``), since the kiosk writes into the old file until it restarts."""
    if kind != "other_database":
        return None
    path = Path(database.path)
    target = target or path.with_name(f"{path.name}.open-copy-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        database.copy_to(target)
        return target
    except (OSError, sqlite3.Error) as exc:
        log.error("what the kiosk holds could not be copied aside (%s)", type(exc).__name__,
                  extra={"event": "outbox.database_copy_failed", "error": str(exc)[:200]})
        return None
