"""The fictional demo hospital and people in ``assets/demo/hospital.json``:
one source for the sandbox HIS seed and the simulated card reader and camera."""
from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from pathlib import Path

from kiosk.domain import Assurance, Identity, IdentitySource

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEMO_FILE = ASSETS / "demo" / "hospital.json"

SEX_TO_GENDER = {"Nam": "male", "Nữ": "female"}


@lru_cache(maxsize=4)
def load_demo(path: str | None = None) -> dict:
    return json.loads(Path(path or DEMO_FILE).read_text(encoding="utf-8"))


def demo_people(path: str | None = None) -> list[dict]:
    return load_demo(path)["people"]


def demo_person(key: str, path: str | None = None) -> dict:
    for person in demo_people(path):
        if person["key"] == key:
            return person
    raise KeyError(f"no demo person with key {key!r}")


def person_identity(person: dict, source: IdentitySource = IdentitySource.CHIP,
                    assurance: Assurance = Assurance.CHIP_VERIFIED) -> Identity:
    """A demo person as the kiosk would see them after reading their card."""
    return Identity(
        citizen_id=person["citizen_id"],
        source=source,
        assurance=assurance,
        full_name=person["full_name"],
        birth_date=date.fromisoformat(person["birth_date"]),
        sex=SEX_TO_GENDER.get(person["sex"], "unknown"),
        address=person["address"],
        old_id=person.get("old_id") or None,
        issue_date=date.fromisoformat(person["issue_date"]),
    )


def demo_patient_code(person: dict, suffix: str = "") -> str:
    """A demo person's hospital patient code (his.patient_code_system), as the
    sandbox HIS seeds it and an old slip's barcode shows it: ``BN-`` and the
    last six ID digits (``suffix`` marks a duplicate record)."""
    return f"BN-{person['citizen_id'][-6:]}{suffix.upper()}"


def demo_booking_code(person: dict, day: date) -> str:
    """The booking code of a demo person's appointment on ``day`` (the hospital's
    local day), as the sandbox HIS seeds it and an appointment QR shows it:
    ``LH``, the day as YYMMDD and the last four ID digits."""
    return f"LH{day:%y%m%d}{person['citizen_id'][-4:]}"


def _ddmmyyyy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d%m%Y")


def cccd_qr_payload(person: dict, layout: str = "cccd_2021") -> str:
    """The text of a demo person's CCCD QR code.

    ``cccd_2021``: the 7-field card layout; ``cccd_6``: the 6-field copy
    (no old ID, dates dd/MM/yyyy)."""
    if layout == "cccd_6":
        dmy = lambda iso: date.fromisoformat(iso).strftime("%d/%m/%Y")  # noqa: E731
        return "|".join([person["citizen_id"], person["full_name"], dmy(person["birth_date"]),
                         person["sex"], person["address"], dmy(person["issue_date"])])
    if layout != "cccd_2021":
        raise ValueError(f"unknown layout {layout!r} (cccd_2021, cccd_6)")
    return "|".join([person["citizen_id"], person.get("old_id") or "", person["full_name"],
                     _ddmmyyyy(person["birth_date"]), person["sex"], person["address"],
                     _ddmmyyyy(person["issue_date"])])
