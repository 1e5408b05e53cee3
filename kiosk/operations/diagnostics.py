"""Diagnostics: one check's result, and the checks of the core itself.

``Check`` is what ``kiosk doctor`` and the admin screen show, one line each:
OK / WARN / FAIL with the fix. Each device adapter and the offline cache
answer ``diagnose()`` with their own checks (they know their device); this
module holds the core's own: the data folder's disk and the metrics endpoint
(the HIS's are in ``fhir_his.doctor_checks``: reachable, TLS and sign-in as
the kiosk uses them, the capability matrix, clock skew; the queue service's in
``kiosk.board.follow``). ``app/doctor.py`` runs them all. A check never reports OK
for a state it could not read, and never carries personal data.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kiosk.config.loader import Config

OK = "OK"
WARN = "WARN"
FAIL = "FAIL"

DISK_WARN_BYTES, DISK_FAIL_BYTES = 1_000_000_000, 200_000_000


@dataclass(frozen=True)
class Check:
    name: str  # e.g. "printer.status"
    status: str  # OK / WARN / FAIL
    detail: str  # what was found (device names, counts — never personal data)
    fix: str = ""  # one line: what to do when not OK
    data: dict | None = field(default=None, compare=False)  # details for --json (e.g. the HIS's capability matrix)

    def to_json(self) -> dict:
        out = asdict(self)
        if out["data"] is None:
            del out["data"]
        return out


# --- disk and database -------------------------------------------------------

def _existing_parent(path: Path) -> Path:
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(config: Config) -> list[Check]:
    data_dir = config.data_dir()
    checks = []
    if data_dir.is_dir():
        if os.access(data_dir, os.W_OK):
            checks.append(Check("disk.data_dir", OK, f"{data_dir} is writable"))
        else:
            checks.append(Check("disk.data_dir", FAIL, f"{data_dir} is not writable by this user",
                                "chown the folder to the kiosk user or set kiosk.data_dir"))
    else:
        parent = _existing_parent(data_dir)
        state = FAIL if not os.access(parent, os.W_OK) else WARN
        checks.append(Check("disk.data_dir", state, f"{data_dir} does not exist yet"
                            + ("" if state == WARN else f" and {parent} is not writable"),
                            f"create it: install -d -o kiosk {data_dir} (or set kiosk.data_dir)"))
    usage = shutil.disk_usage(_existing_parent(data_dir))
    free_mb = usage.free / 1e6
    detail = f"{free_mb:,.0f} MB free of {usage.total / 1e6:,.0f} MB on the data folder's disk"
    if usage.free < DISK_FAIL_BYTES:
        checks.append(Check("disk.space", FAIL, detail, "free disk space (old logs: journalctl --vacuum-size=100M)"))
    elif usage.free < DISK_WARN_BYTES:
        checks.append(Check("disk.space", WARN, detail, "free disk space soon (journalctl --vacuum-size=100M)"))
    else:
        checks.append(Check("disk.space", OK, detail))
    return checks


