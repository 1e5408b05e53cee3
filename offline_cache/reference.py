"""Reference-data cache: departments, their clinic rooms and opening hours.

Refreshed from the HIS while online (the probe thread does it every
``offline.reference_refresh_s``), read by the offline check-in. Its age is
shown to IT by ``kiosk doctor`` and ``kiosk outbox list`` — offline tickets
send patients to the rooms this cache knew about.
"""
from __future__ import annotations

import time

from kiosk.domain import ClinicRoom, Department
from offline_cache.db import LocalDatabase

REFRESHED_KEY = "reference_refreshed_at"
MEMO_S = 5.0


class ReferenceCache:
    """Implements ``kiosk.checkin.offline_first.ReferenceData``."""

    def __init__(self, database: LocalDatabase):
        self.database = database
        self._memo: tuple[float, list[Department]] | None = None  # (refreshed_at, departments)
        self._memo_checked = 0.0

    def store(self, departments: list[Department], *, now: float | None = None) -> None:
        """Replace the cache with the HIS's current list (one transaction)."""
        now = now or time.time()
        with self.database.write() as conn:
            conn.execute("DELETE FROM ref_rooms")
            conn.execute("DELETE FROM ref_departments")
            for i, d in enumerate(departments):
                conn.execute("INSERT INTO ref_departments(code, name, name_en, opening_hours, service_id, position)"
                             " VALUES (?,?,?,?,?,?)", (d.code, d.name, d.name_en, d.opening_hours, d.service_id, i))
                conn.executemany(
                    "INSERT OR REPLACE INTO ref_rooms(department_code, code, name, where_text, location_id, position)"
                    " VALUES (?,?,?,?,?,?)",
                    [(d.code, r.code, r.name, r.where, r.location_id, j) for j, r in enumerate(d.rooms)])
            conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                         (REFRESHED_KEY, repr(now)))
        self._memo = None

    def refreshed_at(self) -> float | None:
        value = self.database.meta(REFRESHED_KEY)
        return float(value) if value else None

    def age_s(self, now: float | None = None) -> float | None:
        at = self.refreshed_at()
        return None if at is None else max(0.0, (now or time.time()) - at)

    def departments(self) -> list[Department]:
        # An offline check-in reads this on its ≤ 50 ms path: the memo is
        # trusted for MEMO_S (another process may refresh the cache meanwhile).
        if self._memo and time.monotonic() - self._memo_checked < MEMO_S:
            return self._memo[1]
        at = self.refreshed_at()
        self._memo_checked = time.monotonic()
        if self._memo and self._memo[0] == at:
            return self._memo[1]
        rooms: dict[str, list[ClinicRoom]] = {}
        for r in self.database.read("SELECT * FROM ref_rooms ORDER BY department_code, position"):
            rooms.setdefault(r["department_code"], []).append(
                ClinicRoom(code=r["code"], name=r["name"], where=r["where_text"] or "", location_id=r["location_id"]))
        depts = [Department(code=d["code"], name=d["name"], rooms=tuple(rooms.get(d["code"], ())),
                            service_id=d["service_id"], name_en=d["name_en"] or "",
                            opening_hours=d["opening_hours"] or "")
                 for d in self.database.read("SELECT * FROM ref_departments ORDER BY position")]
        self._memo = (at, depts) if at is not None else None
        return depts
