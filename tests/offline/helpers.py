"""Helpers of the offline tests: identities, a fast config, the parts."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from app.compose import build_offline_checkin
from fhir_his.his import FhirHis
from kiosk.checkin.online import CheckInService
from kiosk.clock import SystemClock
from kiosk.domain import Assurance, Identity, IdentitySource
from tests.helpers import make_config

# confirm_offline_s = 0: one failed probe switches these tests' kiosks offline at once
# (the confirmation window is tested in tests/robustness/test_stopping.py).
FAST = {"go_offline_after_s": 1.0, "probe_interval_s": 0.2, "retry_base_s": 0.02, "retry_max_s": 0.2,
        "lease_s": 30.0, "max_attempts": 20, "confirm_offline_s": 0.0}


def identity(i: int, *, name: str | None = "NGUYỄN VĂN AN", birth=None) -> Identity:
    """A fictional patient: citizen id 0790990xxxxx (never a real person's)."""
    return Identity(citizen_id=f"0790990{i:05d}", source=IdentitySource.CCCD_QR, assurance=Assurance.QR,
                    full_name=name, birth_date=birth, sex="male")


def offline_config(data_dir: Path, base_url: str, *, kiosk_id: str = "KIOSK-01", **offline):
    return make_config(base_url, kiosk={"data_dir": str(data_dir), "id": kiosk_id},
                       offline={**FAST, **offline}, his={"connect_timeout_s": 1.0, "read_timeout_s": 5.0})


class Parts:
    """The kiosk's offline parts (``app.compose.build_offline_checkin``) around a
    real online service; no background threads unless a test starts them."""

    def __init__(self, config):
        self.config = config
        self.his = FhirHis(config)
        self.clock = SystemClock(config.kiosk.timezone)
        self.online = CheckInService(self.his, self.clock, config)
        self.offline = build_offline_checkin(config, self.his, self.online, self.clock)
        self.handler = self.offline.handler
        self.parts = self.offline.parts
        for name in ("database", "store", "reference", "monitor", "sender", "prober"):
            setattr(self, name, getattr(self.parts, name))

    def close(self):
        self.offline.close()
        self.his.close()


def encounters_by_checkin(his: FhirHis, checkin_ids) -> dict[str, int]:
    """How many Encounters the HIS holds per check-in id (asked of the HIS)."""
    counts = {cid: 0 for cid in checkin_ids}
    ids = list(checkin_ids)
    system = his.his.checkin_system
    for i in range(0, len(ids), 40):
        chunk = ids[i:i + 40]
        found, _ = his.client.search("Encounter", {
            "identifier": ",".join(f"{system}|{c}" for c in chunk), "_count": "200"})
        for enc in found:
            for ident in enc.get("identifier", []):
                if ident.get("system") == system and ident.get("value") in counts:
                    counts[ident["value"]] += 1
    return counts


def db_rows(path, sql, params=()):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
