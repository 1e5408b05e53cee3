"""Turn what the chip said into the kiosk's ``Identity``.

The assurance is CHIP_VERIFIED only when passive authentication verified the
data groups against a configured CSCA; a card whose signature is missing,
unknown or wrong is CHIP_UNVERIFIED — it never looks verified.

The chip's text goes through ``kiosk.identity.input_rules`` like every other entry
point: the ID must be 12 ASCII digits and the date of birth 1900..today (else
the read fails as ``CardParseError``); a name, address or other text holding
control or invisible characters fails it too (``error.card.invisible``: the
patient scans the QR code or types the number); names and addresses are
NFC-normalised and collapsed. A DG13 date that is present but cannot be read
(e.g. written in Arabic-Indic digits) fails the read: it is never replaced by
the MRZ's.
"""
from __future__ import annotations

import unicodedata

from devices.cccd.chip_read import ChipData
from devices.cccd.dg13 import parse_vn_date
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
    except input_rules.InvisibleCharacters as exc:
        raise CardParseError(f"chip data: {exc}", key="error.card.invisible") from None
    except input_rules.InputRefused as exc:
        raise CardParseError(f"chip data: {exc}") from None


def _dg13_date(rec, number: int, what: str):
    """The date in DG13 field ``number``; None when absent or (expiry) a text
    without digits such as 'Không thời hạn'; ``CardParseError`` when unreadable."""
    text = (rec.text(number) or "").strip() if rec else ""
    if not text:
        return None
    value = parse_vn_date(text)
    if value is None and (number != 12 or any(ch.isdigit() for ch in text)):
        raise CardParseError(f"chip data: DG13 {what} is not a date dd/MM/yyyy in ASCII digits")
    return value


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
            value = input_rules.card_text(rec.text(number), f"chip {key}")
            if value:
                extra[key] = value
        for key, value in (("father_name", rec.father_name), ("mother_name", rec.mother_name),
                           ("spouse_name", rec.spouse_name)):
            value = input_rules.card_text(value, f"chip {key}")
            if value:
                extra[key] = value
    birth = _dg13_date(rec, 3, "date of birth") or mrz.birth_date
    address = input_rules.card_text(rec.text(9), "chip address") if rec else None
    old_id = rec.old_id if rec else None
    return Identity(
        citizen_id=input_rules.citizen_id(citizen_id, "chip ID number"),
        source=IdentitySource.CHIP,
        assurance=Assurance.CHIP_VERIFIED if data.passive_auth.verified else Assurance.CHIP_UNVERIFIED,
        full_name=(input_rules.name(name, "chip name", typed=False) if input_rules.card_text(name, "chip name")
                   else None),
        birth_date=input_rules.birth_date(birth, "chip date of birth") if birth else None,
        sex=gender(rec.sex if rec and rec.sex else mrz.sex),
        address=input_rules.address(address, "chip address", typed=False) if address else None,
        old_id=_old_id(old_id),
        issue_date=_dg13_date(rec, 11, "issue date"),
        expiry_date=_dg13_date(rec, 12, "expiry date") or mrz.expiry_date,
        photo=data.photo.data if with_photo and data.photo else None,
        extra=extra,
    )
