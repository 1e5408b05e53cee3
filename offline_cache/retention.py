"""Personal data kept only as long as needed (Law 91/2025/QH15 on personal data
protection; Decree 13/2023): a delivered check-in's payload (name, ID number,
date of birth, address) and a done BHYT recheck's card details are blanked
``offline.retention_hours`` after delivery — by EVERY process that opens the
local database (``kiosk run``, ``kiosk checkin``, ``kiosk sync``, ``kiosk outbox
…``: when it opens it and when it closes it), and every few minutes by the
running kiosk's sender. ``kiosk doctor`` FAILs when rows are overdue.
"""
from __future__ import annotations

import logging
import sqlite3
import time

from offline_cache.db import LocalDatabase
from offline_cache.insurance_queue import InsuranceQueue
from offline_cache.outbox import OutboxStore

log = logging.getLogger(__name__)

# The running sender purges every PURGE_EVERY_S (10 min): a row overdue by less than this is on its way out.
OVERDUE_GRACE_S = 15 * 60


def enforce_retention(database: LocalDatabase, kiosk_id: str, retention_hours: float,
                      *, now: float | None = None) -> int:
    """Blank what is past its retention in the outbox and the BHYT recheck queue;
    the number of rows blanked (logged as a count, never what they held)."""
    purged = OutboxStore(database, kiosk_id).purge(retention_hours, now=now)
    purged += InsuranceQueue(database, kiosk_id).purge(retention_hours, now=now)
    if purged:
        log.info("personal data past its retention blanked", extra={"event": "retention.purged", "count": purged,
                                                                    "retention_hours": retention_hours})
    return purged


def overdue(conn: sqlite3.Connection, retention_hours: float, *, now: float | None = None,
            grace_s: float = OVERDUE_GRACE_S) -> tuple[int, int]:
    """Rows still holding personal data past ``retention_hours`` (plus the sender's
    purge interval): (outbox check-ins, BHYT rechecks). Read-only, for the doctor."""
    cutoff = (now or time.time()) - retention_hours * 3600 - grace_s
    outbox = conn.execute("SELECT count(*) FROM outbox WHERE state = 'delivered' AND purged_at IS NULL"
                          " AND delivered_at <= ?", (cutoff,)).fetchone()[0]
    try:
        rechecks = conn.execute("SELECT count(*) FROM insurance_queue WHERE state = 'done' AND purged_at IS NULL"
                                " AND done_at <= ?", (cutoff,)).fetchone()[0]
    except sqlite3.OperationalError:  # a database from before the recheck queue (migration 4)
        rechecks = 0
    return outbox, rechecks
