"""One diagnostic check's result, as `kiosk doctor` and the admin screen show it.

Each device package and the offline cache expose ``diagnose(config) -> list[Check]``;
``app.doctor`` gathers them. A check never reports OK for a state it could not read.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

OK = "OK"
WARN = "WARN"
FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    name: str  # e.g. "printer.status"
    status: str  # OK / WARN / FAIL
    detail: str  # what was found (device names, counts — never personal data)
    fix: str = ""  # one line: what to do when not OK

    def to_json(self) -> dict:
        return asdict(self)
