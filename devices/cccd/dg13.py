"""DG13 of the Vietnamese CCCD: the holder's personal data, keyed by field number.

Layout (see shared/reference/cccd.md): ``6D`` → SEQUENCE { INTEGER version,
OID, SET { SEQUENCE { INTEGER field-number, value… } … } }. Values are
UTF8String (sometimes PrintableString); fields 13 (parents) and 14 (spouse)
nest their names one level deeper. Absent fields are simply omitted, and new
fields may appear: we key on the field number, never on position, and keep
unknown numbers as text in ``extra``.

Text values are decoded by their ASN.1 tag only (a value that is not valid
in its encoding fails the read, it is never re-decoded another way), lose
their NUL padding and a leading byte-order mark, and are NFC-normalised.
Control and invisible characters are left in place for
``kiosk.identity.input_rules`` to refuse (``devices.card.identity``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from devices.cccd import tlv
from devices.cccd.errors import CardParseError

TAG_DG13 = 0x6D
_SEQUENCE, _SET, _INTEGER, _OID = 0x30, 0x31, 0x02, 0x06
_STRING_TAGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be",
                0x04: "utf-8"}

FIELD_NAMES = {
    1: "citizen_id", 2: "full_name", 3: "birth_date", 4: "sex", 5: "nationality",
    6: "ethnicity", 7: "religion", 8: "place_of_origin", 9: "place_of_residence",
    10: "identifying_features", 11: "issue_date", 12: "expiry_date", 13: "parents",
    14: "spouse", 15: "old_id", 16: "field_16",
}


@dataclass(frozen=True)
class CitizenRecord:
    """DG13 decoded. Dates stay as the card's text too, because field 12 may be
    'Không thời hạn' (no expiry) rather than a date."""

    fields: dict[int, list[str]] = field(repr=False)
    version: int | None = None

    def text(self, number: int) -> str | None:
        values = self.fields.get(number)
        return values[0] if values else None

    @property
    def citizen_id(self) -> str | None:
        return self.text(1)

    @property
    def full_name(self) -> str | None:
        return self.text(2)

    @property
    def birth_date(self) -> date | None:
        return parse_vn_date(self.text(3))

    @property
    def sex(self) -> str | None:
        return self.text(4)

    @property
    def issue_date(self) -> date | None:
        return parse_vn_date(self.text(11))

    @property
    def expiry_date(self) -> date | None:
        return parse_vn_date(self.text(12))

    @property
    def father_name(self) -> str | None:
        values = self.fields.get(13) or []
        return values[0] if len(values) > 0 and values[0] else None

    @property
    def mother_name(self) -> str | None:
        values = self.fields.get(13) or []
        return values[1] if len(values) > 1 and values[1] else None

    @property
    def spouse_name(self) -> str | None:
        return self.text(14) or None

    @property
    def old_id(self) -> str | None:
        """The old 9-digit CMND (or a cancelled 12-digit ID): field 15, else 16
        when it looks like an ID number (their meaning is unconfirmed)."""
        for number in (15, 16):
            value = (self.text(number) or "").strip()
            if re.fullmatch(r"[0-9]{9}|[0-9]{12}", value):
                return value
        return None

    def as_json(self) -> dict:
        """Named fields for the CLI / admin screen; unknown numbers as 'field_N'."""
        out: dict[str, object] = {}
        for number in sorted(self.fields):
            name = FIELD_NAMES.get(number, f"field_{number}")
            values = self.fields[number]
            if number == 13:
                out["father_name"] = self.father_name
                out["mother_name"] = self.mother_name
            elif number == 14:
                out["spouse_name"] = self.spouse_name
            else:
                out[name] = values[0] if len(values) == 1 else values
        return out


def parse_vn_date(text: str | None) -> date | None:
    """'05/01/1993' → date; anything else (e.g. 'Không thời hạn') → None."""
    if not text:
        return None
    m = re.fullmatch(r"\s*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\s*", text)
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


def _decode_string(item: tlv.Tlv) -> str | None:
    encoding = _STRING_TAGS.get(item.tag)
    if encoding is None:
        return None
    try:
        text = item.value.decode(encoding).strip("\x00")
    except UnicodeDecodeError:
        raise CardParseError(f"DG13: a text value (tag {item.tag:X}) is not valid {encoding}") from None
    return unicodedata.normalize("NFC", text.removeprefix("\ufeff"))


def _strings(items: list[tlv.Tlv], depth: int = 0) -> list[str]:
    """Every text value in order, descending into nested SEQUENCE/SET."""
    if depth > 4:
        raise CardParseError("DG13: a field value is nested too deeply")
    out: list[str] = []
    for item in items:
        if item.constructed:
            nested = _strings(item.children(), depth + 1)
            # an empty nested SEQUENCE still holds a place (e.g. unknown father)
            out.extend(nested or [""])
        else:
            text = _decode_string(item)
            if text is not None:
                out.append(text)
    return out


def _entry(item: tlv.Tlv) -> tuple[int, list[str]] | None:
    """A field entry is a SEQUENCE { INTEGER number, value… } whose values hold
    no OID or SET (those mark the DG13 header structure, not a field)."""
    if item.tag != _SEQUENCE:
        return None
    children = item.children()
    if not children or children[0].tag != _INTEGER or not 1 <= len(children[0].value) <= 2:
        return None
    if any(c.tag in (_OID, _SET) for c in children[1:]):
        return None
    return int.from_bytes(children[0].value, "big"), _strings(children[1:])


def parse_dg13(data: bytes) -> CitizenRecord:
    outer = tlv.parse_one(data)
    if outer.tag != TAG_DG13:
        raise CardParseError(f"DG13: outer tag {outer.tag:X}, expected 6D")
    fields: dict[int, list[str]] = {}
    version: int | None = None

    def walk(items: list[tlv.Tlv], depth: int) -> None:
        nonlocal version
        if depth > 6:
            raise CardParseError("DG13: nested too deeply")
        for item in items:
            entry = _entry(item)
            if entry is not None:
                fields.setdefault(entry[0], entry[1])
            elif item.constructed:
                walk(item.children(), depth + 1)
            elif item.tag == _INTEGER and version is None and len(item.value) <= 2:
                version = int.from_bytes(item.value, "big") if item.value else 0

    walk(outer.children(), 1)
    if not fields:
        raise CardParseError("DG13: no field entries found")
    return CitizenRecord(fields=fields, version=version)


# --- encoding (sample cards, the virtual test card) ----------------------------

DG13_OID = "2.16.704.1.1.13"  # our sample cards' OID; real cards' meaning is unconfirmed


def _utf8(text: str) -> bytes:
    return tlv.encode(0x0C, text.encode("utf-8"))


def encode_dg13(values: dict[int, object], version: int = 1) -> bytes:
    """``values``: field number → text, or a list of texts for nested fields
    (13: [father, mother], 14: [spouse])."""
    entries = b""
    for number in sorted(values):
        value = values[number]
        body = tlv.encode(_INTEGER, bytes([number]))
        if isinstance(value, (list, tuple)):
            body += b"".join(tlv.encode(_SEQUENCE, _utf8(v)) for v in value)
        else:
            body += _utf8(str(value))
        entries += tlv.encode(_SEQUENCE, body)
    inner = tlv.encode(_INTEGER, bytes([version])) + tlv.encode(_OID, tlv.oid_body(DG13_OID)) + tlv.encode(_SET, entries)
    return tlv.encode(TAG_DG13, tlv.encode(_SEQUENCE, inner))
