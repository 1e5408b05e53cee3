"""What the outbox and the BHYT recheck queue share.

Both are tables of entries with one life: ``pending`` → ``sending`` (claimed
by a worker, with a lease) → done (``delivered`` / ``done``), or back to
``pending`` with a back-off and, after the configured number of tries,
``dead`` (a dead letter: staff look, and ``retry`` revives it). Both are
worked by a background thread that sleeps until an entry is due or a new one
is queued (``kick``), and does periodic chores (purging personal data) whose
failures are logged, never fatal. Each queue adds what is its own: how an
entry is claimed and what it carries, how it is worked.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from typing import Callable, TypeVar

from offline_cache.db import DatabaseClosed, LocalDatabase

PENDING, SENDING, DEAD = "pending", "sending", "dead"
T = TypeVar("T")


def retry_delay(attempts: int, base_s: float, max_s: float) -> float:
    """The back-off after ``attempts`` tries: ``base_s`` doubling up to ``max_s``."""
    return min(max_s, base_s * 2 ** max(0, attempts - 1))


def retry_at(delay: float, rng: random.Random) -> float:
    """When to try again: between half and all of ``delay`` from now (jitter, so
    kiosks that failed together do not retry together)."""
    return time.time() + rng.uniform(delay / 2, delay)


class LeasedTable:
    """The state changes every work queue makes the same way on its table."""

    table = ""  # set by the queue
    done_state = ""
    has_owner = False  # the outbox records which process holds a claim

    def __init__(self, database: LocalDatabase):
        self.database = database

    def _owner_cleared(self) -> str:
        return ", lease_owner = NULL" if self.has_owner else ""

    def mark_failed(self, entry_id: int, error: str, *, retry_at: float, dead: bool) -> None:
        with self.database.write() as conn:
            conn.execute(f"UPDATE {self.table} SET state = ?, next_attempt_at = ?, last_error = ?, updated_at = ?"
                         f"{self._owner_cleared()} WHERE id = ?",
                         (DEAD if dead else PENDING, retry_at, error[:300], time.time(), entry_id))

    def release(self, entry_id: int) -> None:
        """Give back a claimed entry that was not tried (the worker stopping, the
        HIS gone mid-batch): the claim's try is not counted."""
        with self.database.write() as conn:
            conn.execute(f"UPDATE {self.table} SET state = 'pending'{self._owner_cleared()},"
                         " attempts = max(0, attempts - 1), tries_total = max(0, tries_total - 1)"
                         " WHERE id = ? AND state = 'sending'", (entry_id,))

    def retry(self, entry_id: int) -> bool:
        """A dead (or waiting) entry is tried again now, with a fresh attempt budget."""
        with self.database.write() as conn:
            cur = conn.execute(f"UPDATE {self.table} SET state = 'pending', attempts = 0, next_attempt_at = 0,"
                               " updated_at = ? WHERE id = ? AND state IN ('dead', 'pending')",
                               (time.time(), entry_id))
            return cur.rowcount == 1

    def counts(self) -> dict[str, int]:
        out = {PENDING: 0, SENDING: 0, self.done_state: 0, DEAD: 0}
        out.update({r["state"]: r["n"] for r in self.database.read(
            f"SELECT state, count(*) AS n FROM {self.table} GROUP BY state")})
        return out

    def backlog(self) -> int:
        return self.database.read(
            f"SELECT count(*) AS n FROM {self.table} WHERE state IN ('pending', 'sending')")[0]["n"]

    def next_due_at(self) -> float | None:
        return self.database.read(f"SELECT min(next_attempt_at) AS t FROM {self.table}"
                                  " WHERE state = 'pending'")[0]["t"]


class BackgroundWorker:
    """The thread that works a queue: ``start``, ``kick`` (something was queued),
    a wake-able sleep, chores that log their failures, and a quiet end when
    the database closes under it (the claims are taken again later)."""

    thread_name = ""
    stopped_event = ""  # the log event when the database closes under the thread
    log: logging.Logger

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: dict[str, float] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def kick(self, *_args) -> None:
        self._wake.set()

    def _join(self, bound_s: float) -> bool:
        """Ask the thread to stop and wait up to ``bound_s``; True when it ended."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(bound_s)
        return not self._thread.is_alive()

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _sleep_until_due(self, next_due_at: float | None, idle_s: float, floor_s: float) -> None:
        """Until the next entry is due (or ``idle_s`` at most, or a kick)."""
        self._sleep(idle_s if next_due_at is None else min(idle_s, max(floor_s, next_due_at - time.time())))

    def _run(self) -> None:
        try:
            self._loop()
        except DatabaseClosed:  # stopping: what it had claimed is claimed again later
            self.log.info("%s stopped with the database", self.thread_name, extra={"event": self.stopped_event})

    def _loop(self) -> None:
        raise NotImplementedError

    def _every(self, name: str, seconds: float, chore: Callable[[], object], event: str, *,
               first_after: float = 0.0) -> None:
        """Run ``chore`` when ``seconds`` have passed since it last ran (the first
        time ``first_after`` seconds after the worker's first look); its failure is
        logged as ``event`` and the loop goes on; a closed database ends the loop."""
        now = time.time()
        last = self._last.setdefault(name, now - seconds + first_after)
        if now - last < seconds:
            return
        self._last[name] = now
        self._guarded(chore, event)

    def _guarded(self, chore: Callable[[], T], event: str) -> T | None:
        """``chore()``, or None when it failed (logged as ``event``); a closed database ends the loop."""
        try:
            return chore()
        except DatabaseClosed:
            raise
        except Exception:
            self.log.exception("%s failed", event, extra={"event": event})
            return None
