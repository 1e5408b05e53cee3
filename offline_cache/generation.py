"""The generation record: a small JSON file kept beside the outbox database
(``kiosk.sqlite3.generation.json``) so that a database that lost its rows is
noticed instead of being read as "0 waiting".

It holds the database's id (``meta.database_id``), the high-water marks of
check-ins ever queued and delivered in it (``meta.queued_total`` and
``meta.delivered_total``, counted in the same SQLite transactions as the
rows), the last offline number of the latest day, and the list of
*incidents*: a database found damaged, emptied, deleted or replaced by another
one. Incidents stay in the record — and ``kiosk doctor`` FAILs, the metric
``kiosk_outbox_recovery_needed`` is non-zero, ``kiosk outbox list`` and the
admin screen say so — until ``kiosk outbox recover FILE`` or ``kiosk outbox
acknowledge ID`` closes them.

Writes happen after each commit, under a lock file, and only ever raise the
marks (a late writer never lowers them). The record is kept in two files
written in turn (``….generation.a.json`` and ``….generation.b.json``, each
with a sequence number): a write cut short by a power failure spoils at most
one of them and the reader takes the newest readable one — cheaper per
check-in than a rename. A record that is missing or unreadable is rebuilt
from the database (nothing can be compared then; the log says so). Deleting
both the database and this record cannot be detected.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIXES = (".generation.a.json", ".generation.b.json")
BLOCK = 4096


@dataclass
class Incident:
    id: int
    at: float
    kind: str               # damaged / emptied / missing / other_database / rows_lost
    detail: str             # technical, no personal data
    kept_file: str | None   # where the old file was moved (never deleted)
    waiting_estimate: int | None  # check-ins that may have been waiting (None: unknown)
    resolved_at: float | None = None
    resolution: str = ""
    live: bool = False      # found while the kiosk ran (it reports each such finding once)

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.at))
        waiting = ("an unknown number of" if self.waiting_estimate is None
                   else f"up to {self.waiting_estimate}")
        kept = f"; kept as {self.kept_file}" if self.kept_file else ""
        return f"incident {self.id} ({when}): {self.detail}{kept}; {waiting} queued check-in(s) may need recovery"

    def fix(self) -> str:
        if self.kept_file:
            return (f"`kiosk outbox recover {self.kept_file}` (salvages what is readable), "
                    f"then check the report; `kiosk outbox acknowledge {self.id}` closes it")
        return (f"find the check-ins on the paper tickets issued offline and enter them at the desk; "
                f"then `kiosk outbox acknowledge {self.id}`")


@dataclass
class Record:
    database_id: str = ""
    seq: int = 0                # which of the two files is newer
    queued_total: int = 0
    delivered_total: int = 0
    offline_day: str = ""       # the latest day an offline number was issued
    offline_last_seq: int = 0   # its last number (a fresh database continues after it)
    updated_at: float = 0.0
    incidents: list[Incident] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        return max(0, self.queued_total - self.delivered_total)

    def open_incidents(self) -> list[Incident]:
        return [i for i in self.incidents if i.open]

    def add_incident(self, kind: str, detail: str, kept_file: str | None, waiting: int | None, *,
                     live: bool = False) -> Incident:
        incident = Incident(max((i.id for i in self.incidents), default=0) + 1, time.time(), kind, detail,
                            kept_file, waiting, live=live)
        self.incidents.append(incident)
        return incident

    def to_json(self) -> dict:
        return {"database_id": self.database_id, "seq": self.seq, "queued_total": self.queued_total,
                "delivered_total": self.delivered_total, "offline_day": self.offline_day,
                "offline_last_seq": self.offline_last_seq, "updated_at": self.updated_at,
                "incidents": [asdict(i) for i in self.incidents]}

    @classmethod
    def from_json(cls, data: dict) -> "Record":
        known = {f.name for f in dataclass_fields(Incident)}
        incidents = [Incident(**{k: v for k, v in i.items() if k in known}) for i in data.get("incidents", [])]
        fields = {k: data[k] for k in ("database_id", "seq", "queued_total", "delivered_total", "offline_day",
                                       "offline_last_seq", "updated_at") if k in data}
        return cls(**fields, incidents=incidents)


def record_paths(database_path: str | os.PathLike) -> tuple[Path, Path]:
    p = Path(database_path)
    return tuple(p.with_name(p.name + suffix) for suffix in SUFFIXES)


class Generation:
    """The record of one database path; safe across threads and processes."""

    def __init__(self, database_path: str | os.PathLike):
        self.database_path = Path(database_path)
        self.paths = record_paths(database_path)
        self.path = self.paths[0]
        self.lock_path = self.database_path.with_name(self.database_path.name + ".generation.lock")
        # The record as this object last wrote it, keyed by the files' stat:
        # when nobody else wrote since, the files are not read again.
        self._cache: tuple[tuple, bytes] | None = None
        self._thread_lock = threading.Lock()
        self._lock_fd: int | None = None  # kept open: opening it per write costs more than the write

    def _stat_key(self) -> tuple | None:
        key = []
        for path in self.paths:
            try:
                st = os.stat(path)
            except OSError:
                key.append(None)
                continue
            key.append((st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(key)

    # -- reading ---------------------------------------------------------------------
    def load(self) -> Record | None:
        """The newest readable record, or None when there is none."""
        found, spoiled = [], 0
        for path in self.paths:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                found.append(Record.from_json(data))
            except FileNotFoundError:
                continue
            except (OSError, ValueError, TypeError, AttributeError):
                spoiled += 1
        if spoiled and not found:
            log.warning("generation record unreadable; it is rebuilt from the database",
                        extra={"event": "outbox.generation_unreadable"})
        return max(found, key=lambda r: r.seq) if found else None

    def close(self) -> None:
        with self._thread_lock:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    # -- writing ---------------------------------------------------------------------
    @contextmanager
    def locked(self):
        """Read-modify-write under the lock file: ``with gen.locked() as rec: …``;
        the record is saved when the block ends without an exception."""
        with self._thread_lock:
            if self._lock_fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            lock = self._lock_fd
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                cached = self._cache
                if cached is not None and cached[0] == self._stat_key():
                    record = Record.from_json(json.loads(cached[1]))
                else:
                    record = self.load() or Record()
                yield record
                data = self._save(record)
                self._cache = (self._stat_key(), data)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _save(self, record: Record) -> bytes:
        """Write the other file than the newest one, in place and in one
        ``pwrite`` (padded with spaces to whole blocks, so the file is rarely
        truncated: truncating costs more than the write)."""
        record.updated_at = time.time()
        record.seq += 1
        data = json.dumps(record.to_json(), ensure_ascii=False).encode("utf-8")
        padded = data + b" " * (-len(data) % BLOCK)
        fd = os.open(self.paths[record.seq % 2], os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, padded, 0)
            if os.fstat(fd).st_size > len(padded):
                os.ftruncate(fd, len(padded))
        finally:
            os.close(fd)
        return data

    def advance(self, database_id: str, *, queued_total: int | None = None, delivered_total: int | None = None,
                offline_day: str | None = None, offline_seq: int | None = None) -> None:
        """Raise the marks after a commit (never lowers them). A record that
        belongs to another database id is left alone: the database was
        replaced under this process, the next start records the incident."""
        try:
            with self.locked() as rec:
                if rec.database_id and rec.database_id != database_id:
                    return
                rec.database_id = database_id
                if queued_total is not None:
                    rec.queued_total = max(rec.queued_total, queued_total)
                if delivered_total is not None:
                    rec.delivered_total = max(rec.delivered_total, delivered_total)
                if offline_day is not None and offline_seq is not None:
                    if offline_day > rec.offline_day:
                        rec.offline_day, rec.offline_last_seq = offline_day, offline_seq
                    elif offline_day == rec.offline_day:
                        rec.offline_last_seq = max(rec.offline_last_seq, offline_seq)
        except OSError as exc:  # the check-in is committed; the record catches up at the next write
            log.warning("generation record not updated", extra={"event": "outbox.generation_write_failed",
                                                                  "error": type(exc).__name__})

    def resolve(self, incident_id: int | None, resolution: str, *, kept_file: str | None = None) -> list[Incident]:
        """Close an incident by id, or every open one of ``kept_file``."""
        closed = []
        with self.locked() as rec:
            for inc in rec.incidents:
                if not inc.open:
                    continue
                if (incident_id is not None and inc.id == incident_id) or \
                        (kept_file is not None and inc.kept_file and _same(inc.kept_file, kept_file)):
                    inc.resolved_at, inc.resolution = time.time(), resolution
                    closed.append(inc)
        return closed


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)
