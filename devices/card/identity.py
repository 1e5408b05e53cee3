"""Turn what the chip said into the kiosk's ``Identity``.

The assurance is CHIP_VERIFIED only when passive authentication verified the
data groups against a configured CSCA; a card whose signature is missing,
unknown or wrong is CHIP_UNVERIFIED — it never looks verified.

The chip's text goes through ``kiosk.identity.input_rules`` like every other entry
point: the ID must be 12 ASCII digits and the date of birth 1900..today (else
the read fails as ``CardParseError``), invisible and control characters are
removed from names and addresses, which are NFC-normalised and collapsed.
"""
from __future__ import annotations

import unicodedata

from devices.cccd.chip_read import ChipData
from devices.cccd.errors import CardParseError
from devices.cccd.session import Key
from kiosk.domain import AccessKey, Assurance, Identity, IdentitySource
from kiosk.identity import input_rules

_SEX = {"nam": "male", "nữ": "female", "nu": "female", "m": "male", "f": "female"}


def gender(value: str | None) -> str:
    """'Nam' → male, 'Nữ' → female (any Unicode normalization), MRZ M/F too."""
    if not value:
        return "unknown"
    return _SEX.get(unicodedata.normalize("NFC", value).strip().lower(), "unknown")


def _old_id(value: str | None) -> str | None:
    """The old CMND number when it is one (9 or 12 ASCII digits); dropped otherwise."""
    try:
        return input_rules.old_id(value, "chip old ID number") if value else None
    except input_rules.InputRefused:
        return None


def session_key(key: AccessKey) -> Key:
    return Key(can=key.can, document_number=key.document_number, birth=key.birth_date, expiry=key.expiry_date)


def identity_from_chip(data: ChipData, *, with_photo: bool) -> Identity:
    try:
        return _identity_from_chip(data, with_photo=with_photo)
    except input_rules.InputRefused as exc:
        raise CardParseError(f"chip data: {exc}") from None


def _identity_from_chip(data: ChipData, *, with_photo: bool) -> Identity:
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
            value = input_rules.card_text(rec.text(number))
            if value:
                extra[key] = value
        for key, value in (("father_name", rec.father_name), ("mother_name", rec.mother_name),
                           ("spouse_name", rec.spouse_name)):
            value = input_rules.card_text(value)
            if value:
                extra[key] = value
    birth = (rec.birth_date if rec else None) or mrz.birth_date
    address = input_rules.card_text(rec.text(9)) if rec else None
    old_id = rec.old_id if rec else None
    return Identity(
        citizen_id=input_rules.citizen_id(citizen_id, "chip ID number"),
        source=IdentitySource.CHIP,
        assurance=Assurance.CHIP_VERIFIED if data.passive_auth.verified else Assurance.CHIP_UNVERIFIED,
        full_name=input_rules.name(name, "chip name", typed=False) if input_rules.card_text(name) else None,
        birth_date=input_rules.birth_date(birth, "chip date of birth") if birth else None,
        sex=gender(rec.sex if rec and rec.sex else mrz.sex),
        address=input_rules.address(address, "chip address", typed=False) if address else None,
        old_id=_old_id(old_id),
        issue_date=rec.issue_date if rec else None,
        expiry_date=(rec.expiry_date if rec else None) or mrz.expiry_date,
        photo=data.photo.data if with_photo and data.photo else None,
        extra=extra,
    )
