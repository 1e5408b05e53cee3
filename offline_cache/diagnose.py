"""``kiosk doctor`` checks for the offline cache (read-only: never creates or
migrates the database)."""
from __future__ import annotations

import sqlite3
import time

from kiosk.config.loader import Config
from kiosk.errors import ConfigError
from kiosk.operations.diagnostics import FAIL, OK, WARN, Check
from offline_cache.db import SCHEMA_VERSION
from offline_cache.generation import Generation, Record
from offline_cache.integrity import compare_with_record
from offline_cache.reference import REFRESHED_KEY
from offline_cache.retention import overdue

BACKLOG_WARN_S = 30 * 60
REFERENCE_WARN_S = 24 * 3600


def human_age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def offline_slot_check(config: Config) -> Check:
    from kiosk.checkin.offline_first import OFFLINE_FLOOR, SLOT_SIZE, offline_label, offline_slot

    try:
        k = offline_slot(config.kiosk)
    except ConfigError as exc:
        return Check("outbox.offline_numbers", FAIL, str(exc),
                     "give kiosk.id a trailing number unique in the hospital, or set kiosk.offline_number_base")
    first = OFFLINE_FLOOR + k * SLOT_SIZE
    return Check("outbox.offline_numbers", OK,
                 f"slot {k}: offline numbers {first + 1}–{first + SLOT_SIZE - 1}, labels {offline_label(k, 1)}…")


def recovery_checks(path, record: Record | None) -> list[Check]:
    """One FAIL per open incident of the generation record (damaged, emptied,
    deleted or replaced database): queued check-ins may need recovery."""
    if record is None:
        return []
    out = [Check("outbox.recovery", FAIL, i.describe(), i.fix()) for i in record.open_incidents()]
    if not out:
        out.append(Check("outbox.recovery", OK, "no database incident"))
    return out


def diagnose(config: Config) -> list[Check]:
    """The outbox (backlog, dead letters, reference data) and the database's integrity; read-only."""
    return _outbox_checks(config) + check_database(config)


def _outbox_checks(config: Config) -> list[Check]:
    checks = [offline_slot_check(config)]
    path = config.database_path()
    record = Generation(path).load()
    checks += recovery_checks(path, record)
    if not path.exists():
        if record is not None and record.queued_total:
            return checks + [Check("outbox.database", FAIL,
                                   f"the outbox database {path} is missing: up to {record.waiting} queued check-in(s) "
                                   f"were waiting in it ({record.queued_total} ever queued)",
                                   "restore the file if you have it; starting the kiosk records the loss and "
                                   "creates a fresh database")]
        return checks + [Check("outbox.database", WARN, f"no local database yet at {path}",
                               "start the kiosk once while the HIS is reachable (it creates the database)")]
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        return checks + [Check("outbox.database", FAIL, f"{path} cannot be opened ({exc})",
                               "check the file's owner and permissions (offline.database)")]
    try:
        return checks + _generation_check(conn, path, record) + _checks(conn, path, config.offline.retention_hours)
    except sqlite3.Error as exc:
        return checks + [Check("outbox.database", FAIL, f"{path}: {exc}",
                               "restart the kiosk: it moves the damaged file aside, starts a fresh one and names "
                               "the kept file for `kiosk outbox recover FILE`")]
    finally:
        conn.close()


def _generation_check(conn: sqlite3.Connection, path, record: Record | None) -> list[Check]:
    """The database still holds what its generation record says was queued in it
    (the same comparison the kiosk makes when it starts)."""
    finding = compare_with_record(path, record)
    if finding is not None:
        kind, detail, waiting = finding
        fix = ("restart the kiosk to record the loss; look for the missing check-ins on the offline paper tickets"
               if kind == "rows_lost" else "restart the kiosk (it keeps the file aside and records the loss)")
        return [Check("outbox.generation", FAIL, f"{path}: {detail}; up to {waiting} queued check-in(s) may be "
                      "missing", fix)]
    if record is None or not record.database_id or path.stat().st_size == 0:
        return []
    held = conn.execute("SELECT count(*) FROM checkins").fetchone()[0]
    return [Check("outbox.generation", OK, f"{held} check-in(s) ever queued, all still in the database")]


def _retention_check(conn: sqlite3.Connection, retention_hours: float, now: float) -> Check:
    """Personal data kept past ``offline.retention_hours`` is a breach of the kiosk's record of processing."""
    late_checkins, late_rechecks = overdue(conn, retention_hours, now=now)
    if late_checkins or late_rechecks:
        return Check("outbox.retention", FAIL,
                     f"{late_checkins} delivered check-in(s) and {late_rechecks} BHYT recheck(s) still hold personal "
                     f"data past offline.retention_hours = {retention_hours:g}",
                     "`kiosk outbox purge` blanks them now; the running kiosk does so every 10 minutes "
                     "(is it running? systemctl status kiosk)")
    return Check("outbox.retention", OK, f"no personal data kept past offline.retention_hours = {retention_hours:g}")


def _checks(conn: sqlite3.Connection, path, retention_hours: float) -> list[Check]:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        return [Check("outbox.database", FAIL, f"schema version {version} is newer than this kiosk ({SCHEMA_VERSION})",
                      "update the kiosk software or restore the matching database")]
    if version < SCHEMA_VERSION:
        out = [Check("outbox.database", WARN, f"schema version {version}, current {SCHEMA_VERSION}",
                     "start the kiosk once: it migrates the database")]
        if version < 2:
            return out
    else:
        out = [Check("outbox.database", OK, f"{path} schema version {version}")]
    now = time.time()
    counts = dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    waiting = counts.get("pending", 0) + counts.get("sending", 0)
    oldest = conn.execute("SELECT min(created_at) FROM outbox WHERE state IN ('pending','sending')").fetchone()[0]
    age = None if oldest is None else now - oldest
    detail = f"{waiting} check-in(s) waiting for the HIS (oldest {human_age(age)}), {counts.get('delivered', 0)} delivered"
    if waiting and age and age > BACKLOG_WARN_S:
        out.append(Check("outbox.backlog", WARN, detail,
                         "check the HIS connection (kiosk doctor his.*), then `kiosk sync`"))
    else:
        out.append(Check("outbox.backlog", OK, detail))
    dead = counts.get("dead", 0)
    if dead:
        out.append(Check("outbox.dead_letters", FAIL, f"{dead} check-in(s) could not be delivered after retries",
                         "`kiosk outbox list --state dead`, fix the cause shown, then `kiosk outbox retry ID`"))
    else:
        out.append(Check("outbox.dead_letters", OK, "no dead letters"))
    if version >= 4:  # the BHYT recheck queue (migration 4)
        out += _insurance_checks(conn, now)
    out.append(_retention_check(conn, retention_hours, now))
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (REFRESHED_KEY,)).fetchone()
    n_dept = conn.execute("SELECT count(*) FROM ref_departments").fetchone()[0]
    ref_age = None if not row else now - float(row[0])
    if ref_age is None or not n_dept:
        out.append(Check("outbox.reference_cache", FAIL, "no departments cached: offline check-in is impossible",
                         "let the kiosk run once while the HIS is reachable (or run `kiosk sync`)"))
    elif ref_age > REFERENCE_WARN_S:
        out.append(Check("outbox.reference_cache", WARN, f"{n_dept} departments, refreshed {human_age(ref_age)} ago",
                         "the HIS has not been reachable for a long time: check the connection"))
    else:
        out.append(Check("outbox.reference_cache", OK, f"{n_dept} departments, refreshed {human_age(ref_age)} ago"))
    last = conn.execute("SELECT at, mode, reason FROM mode_changes ORDER BY id DESC LIMIT 1").fetchone()
    if last:
        out.append(Check("outbox.last_mode_change", OK,
                         f"{last[1]} since {time.strftime('%Y-%m-%d %H:%M', time.localtime(last[0]))} ({last[2]})"))
    return out


def _insurance_checks(conn: sqlite3.Connection, now: float) -> list[Check]:
    """The BHYT recheck queue: card checks and Coverage writes left for later."""
    counts = dict(conn.execute("SELECT state, count(*) FROM insurance_queue GROUP BY state").fetchall())
    waiting = counts.get("pending", 0) + counts.get("sending", 0)
    oldest = conn.execute("SELECT min(created_at) FROM insurance_queue WHERE state IN ('pending','sending')"
                          ).fetchone()[0]
    age = None if oldest is None else now - oldest
    detail = (f"{waiting} BHYT check(s) or Coverage write(s) waiting (oldest {human_age(age)}), "
              f"{counts.get('done', 0)} done")
    out = [Check("insurance.queue", WARN if waiting and age and age > BACKLOG_WARN_S else OK, detail,
                 "check the gateway (kiosk doctor insurance.*) and the HIS; the queue retries by itself")]
    dead = counts.get("dead", 0)
    if dead:
        out.append(Check("insurance.dead_letters", FAIL, f"{dead} BHYT recheck(s) gave up after retries",
                         "admin screen → outbox tab: read the last error, fix its cause, then Retry now"))
    else:
        out.append(Check("insurance.dead_letters", OK, "no BHYT dead letters"))
    return out


def check_database(config: Config) -> list[Check]:
    path = config.database_path()
    if not path.exists():
        return [Check("database", WARN, f"no local database yet at {path}",
                      "start the kiosk once (it creates the database) or set offline.database")]
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
        try:
            rows = [r[0] for r in con.execute("PRAGMA integrity_check").fetchmany(5)]
        finally:
            con.close()
    except sqlite3.Error as exc:
        return [Check("database", FAIL, f"{path} cannot be read ({exc})",
                      "restart the kiosk: it keeps the damaged file aside (never deleted), starts a fresh one "
                      "and names the kept file; then `kiosk outbox recover FILE`")]
    if rows == ["ok"]:
        size_kb = path.stat().st_size / 1024
        return [Check("database", OK, f"{path} integrity ok ({size_kb:,.0f} KB)")]
    return [Check("database", FAIL, f"{path} is damaged: {'; '.join(map(str, rows))[:200]}",
                  "restart the kiosk: it keeps the damaged file aside (never deleted), starts a fresh one and "
                  "names the kept file; then `kiosk outbox recover FILE`")]
