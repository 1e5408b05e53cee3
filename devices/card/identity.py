"""Turn what the chip said into the kiosk's ``Identity``.

The assurance is CHIP_VERIFIED only when passive authentication verified the
data groups against a configured CSCA; a card whose signature is missing,
unknown or wrong is CHIP_UNVERIFIED — it never looks verified.
"""
from __future__ import annotations

import unicodedata

from devices.cccd.chip_read import ChipData
from devices.cccd.session import Key
from kiosk.domain import AccessKey, Assurance, Identity, IdentitySource

_SEX = {"nam": "male", "nữ": "female", "nu": "female", "m": "male", "f": "female"}


def gender(value: str | None) -> str:
    """'Nam' → male, 'Nữ' → female (any Unicode normalization), MRZ M/F too."""
    if not value:
        return "unknown"
    return _SEX.get(unicodedata.normalize("NFC", value).strip().lower(), "unknown")


def session_key(key: AccessKey) -> Key:
    return Key(can=key.can, document_number=key.document_number, birth=key.birth_date, expiry=key.expiry_date)


def identity_from_chip(data: ChipData, *, with_photo: bool) -> Identity:
    rec, mrz = data.record, data.mrz
    citizen_id = (rec.citizen_id if rec else None) or mrz.citizen_id or mrz.document_number
    name = rec.full_name if rec and rec.full_name else " ".join(p for p in (mrz.primary_name, mrz.secondary_name) if p)
    extra = {
        "passive_auth": data.passive_auth.status,
        "passive_auth_reason": data.passive_auth.reason,
        "access_control": data.protocol,
    }
    if rec:
        for number, key in ((5, "nationality"), (6, "ethnicity"), (7, "religion"), (8, "place_of_origin"),
                            (10, "identifying_features"), (12, "expiry_text")):
            value = rec.text(number)
            if value:
                extra[key] = value
        for key, value in (("father_name", rec.father_name), ("mother_name", rec.mother_name),
                           ("spouse_name", rec.spouse_name)):
            if value:
                extra[key] = value
    return Identity(
        citizen_id=citizen_id,
        source=IdentitySource.CHIP,
        assurance=Assurance.CHIP_VERIFIED if data.passive_auth.verified else Assurance.CHIP_UNVERIFIED,
        full_name=name or None,
        birth_date=(rec.birth_date if rec else None) or mrz.birth_date,
        sex=gender(rec.sex if rec and rec.sex else mrz.sex),
        address=rec.text(9) if rec else None,
        old_id=rec.old_id if rec else None,
        issue_date=rec.issue_date if rec else None,
        expiry_date=(rec.expiry_date if rec else None) or mrz.expiry_date,
        photo=data.photo.data if with_photo and data.photo else None,
        extra=extra,
    )
