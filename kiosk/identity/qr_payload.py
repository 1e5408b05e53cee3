"""What a scanned QR code means: a CCCD card's QR, a hospital appointment QR,
or something the kiosk does not support.

Why here (Qt-free, no cv2): the camera adapter only reports exact text; the
check-in flow, the CLI and tests all interpret it the same way.

CCCD layouts:

- ``cccd_2021``: 7 fields ``ID12|oldID|name|DDMMYYYY|Nam/Nữ|address|DDMMYYYY``
  (old ID may be empty);
- ``cccd_6``: 6 fields without the old ID, ``ID12|name|dob|sex|address|issue``
  (the copy shared from the Zalo app, dates ``dd/MM/yyyy``);
- ``can_cuoc_2024``: the 2024 card; its field order is not published, so the
  first seven fields are read as the 2021 layout when they fit and any further
  fields (cancelled ID, parents' names…) are kept in ``extra``;
- ``tolerant``: fields in an unknown order, recognised by their shape.

Both date spellings are accepted in every layout; a leading BOM and the
trailing CR, LF, CRLF or Tab a scanner adds are stripped, and the text is
NFC-normalised. Refused: a payload that was not valid UTF-8 (``QrNotText``;
never re-read in another encoding), control or invisible characters
(``QrInvisible``), and in a CCCD QR any digit other than ASCII 0-9 or a date
that cannot be read (never replaced by another field). Errors are typed
(``QrPayloadError``) and never quote the payload: it is personal data.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from kiosk.config.loader import CameraSection
from kiosk.domain import AccessKey, Assurance, Identity, IdentitySource, is_valid_citizen_id
from kiosk.errors import KioskError
from kiosk.identity import input_rules, text_safety
from kiosk.identity.card_expiry import card_expiry
from kiosk.identity.patient_code import PatientCodeRules

# The default of camera.appointment_pattern: the HIS booking code ("LH…",
# e.g. LH2611250345), optionally prefixed "APPT:".
DEFAULT_APPOINTMENT_PATTERN = CameraSection().appointment_pattern

KIND_CCCD = "cccd"
KIND_APPOINTMENT = "appointment"
KIND_PATIENT_CODE = "patient_code"
KIND_UNKNOWN = "unknown"

SEX_TO_GENDER = {"nam": "male", "nữ": "female"}

# ASCII digits only, matched in full (``\d`` would take Arabic-Indic or
# full-width digits, ``$`` a trailing newline): see kiosk.identity.input_rules.
_DATE_COMPACT = re.compile(r"^([0-9]{2})([0-9]{2})([0-9]{4})\Z")
_DATE_SLASHED = re.compile(r"^([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})\Z")
_DIGITS = re.compile(r"^[0-9]+\Z")
# Three groups of digits between date separators: a date, read or refused.
_DATE_SHAPED = re.compile(r"^[0-9]{1,4}[/.\-][0-9]{1,2}[/.\-][0-9]{1,4}\Z")
# A QR code holds at most 4,296 alphanumeric characters (version 40-L).
MAX_QR_TEXT = 4296
_HAS_DIGIT = re.compile(r"\d")
_HAS_LETTER = re.compile(r"[^\W\d_]")
MIN_BIRTH_YEAR = 1900


class QrPayloadError(KioskError):
    """A scanned QR code the kiosk cannot use."""

    patient_message_key = "error.qr_invalid"


class UnsupportedQr(QrPayloadError):
    """Neither a CCCD QR nor an appointment QR (a URL, a payment code…)."""

    patient_message_key = "error.qr_unsupported"


class QrNotText(QrPayloadError):
    """The code's bytes are not valid UTF-8: scan again, or use the card / keypad."""

    patient_message_key = "error.qr_not_text"


class QrInvisible(QrPayloadError):
    """Control, escape, bidi or zero-width characters inside the text."""

    patient_message_key = "error.qr_invisible"


class InvalidCccdQr(QrPayloadError):
    """Looks like a CCCD QR but a field is missing or impossible (bad ID,
    impossible date, unknown sex). The text names the field, not its value."""


@dataclass(frozen=True)
class CccdQr:
    """The fields of a CCCD card's QR code (personal fields hidden from repr)."""

    layout: str
    citizen_id: str = field(repr=False)
    full_name: str = field(repr=False)
    birth_date: date = field(repr=False)
    sex: str = field(default="unknown", repr=False)  # FHIR gender
    address: str | None = field(default=None, repr=False)
    issue_date: date | None = field(default=None, repr=False)
    old_id: str | None = field(default=None, repr=False)
    extra: dict[str, str] = field(default_factory=dict, repr=False)

    kind = KIND_CCCD

    def identity(self) -> Identity:
        """The kiosk identity: source CCCD_QR, assurance QR (anyone can print one)."""
        return Identity(
            citizen_id=self.citizen_id, source=IdentitySource.CCCD_QR, assurance=Assurance.QR,
            full_name=self.full_name, birth_date=self.birth_date, sex=self.sex,
            address=self.address, old_id=self.old_id, issue_date=self.issue_date,
            expiry_date=self.expiry_date(), extra=dict(self.extra),
        )

    def expiry_date(self) -> date | None:
        if self.issue_date is None:
            return None
        return card_expiry(self.birth_date, self.issue_date)

    def access_key(self) -> AccessKey:
        """CAN (PACE) and, when the expiry can be computed, the BAC key."""
        return AccessKey(
            can=self.citizen_id[-6:], document_number=self.citizen_id[-9:],
            birth_date=self.birth_date, expiry_date=self.expiry_date(),
        )


@dataclass(frozen=True)
class AppointmentQr:
    """A booking QR printed or sent by the hospital; ``code`` is the HIS's
    booking code / appointment identifier."""

    code: str
    kind = KIND_APPOINTMENT


@dataclass(frozen=True)
class PatientCodeQr:
    """The hospital patient code on an old slip (a Code 128 barcode or a QR
    code), recognised by ``camera.patient_code_pattern``."""

    code: str
    kind = KIND_PATIENT_CODE


def clean_text(text: str) -> str:
    """Drop a leading BOM and the trailing CR/LF/Tab a scanner adds; NFC."""
    return text_safety.nfc(text_safety.strip_scanner_ends(text))


def checked_text(text) -> str:
    """The payload as clean text (``clean_text``); ``QrNotText`` for bytes that are not UTF-8, U+FFFD
    or lone surrogates; ``QrInvisible`` for control or invisible characters inside."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise QrNotText("QR payload is not valid UTF-8") from None
    if not isinstance(text, str):
        raise UnsupportedQr("QR payload is not text")
    if len(text) > MAX_QR_TEXT:
        raise UnsupportedQr(f"QR payload of {len(text)} characters is longer than a QR code can hold")
    if text_safety.REPLACEMENT in text or any("\ud800" <= ch <= "\udfff" for ch in text):
        raise QrNotText("QR payload was not valid UTF-8 (the decoder could not read it as text)")
    cleaned = clean_text(text)
    if text_safety.has_unsafe(cleaned):
        raise QrInvisible("QR payload holds control, escape, bidi or zero-width characters")
    return cleaned


def parse_qr(text: str, appointment_pattern: str | None = None, *, today: date | None = None,
             patient_code_pattern: str | None = None) -> CccdQr | AppointmentQr | PatientCodeQr:
    """Interpret a decoded QR (or barcode) text: a CCCD, an appointment code, or
    — when ``patient_code_pattern`` is given — a hospital patient code.
    Raises ``QrNotText``, ``QrInvisible``, ``UnsupportedQr`` or ``InvalidCccdQr``."""
    cleaned = checked_text(text)
    fields = [f.strip() for f in cleaned.split("|")]
    if _looks_like_cccd(fields):
        return parse_cccd(cleaned, today=today)
    pattern = appointment_pattern or DEFAULT_APPOINTMENT_PATTERN
    match = re.search(pattern, cleaned.strip())
    if match and match.groupdict().get("code"):
        try:
            return AppointmentQr(code=input_rules.booking_code(match.group("code"), "appointment QR code"))
        except input_rules.InputRefused as exc:
            raise UnsupportedQr(f"appointment QR: {exc}") from None
    code = PatientCodeRules(patient_code_pattern).from_scan(cleaned) if patient_code_pattern else None
    if code:
        return PatientCodeQr(code=code)
    raise UnsupportedQr(f"QR payload of {len(cleaned)} characters matches no supported format "
                        "(CCCD, camera.appointment_pattern, camera.patient_code_pattern)")


def parse_cccd(text: str, *, today: date | None = None) -> CccdQr:
    """Parse a CCCD QR text (any supported layout)."""
    today = today or date.today()
    fields = [f.strip() for f in checked_text(text).split("|")]
    for i, value in enumerate(fields):
        if text_safety.foreign_digits(value):
            what = " (ID number)" if i == 0 else ""  # the first field in every layout
            raise InvalidCccdQr(f"CCCD QR: field {i + 1}{what} has digits other than ASCII 0-9")
    while len(fields) > 7 and fields[-1] == "":  # trailing separators
        fields.pop()
    if len(fields) == 7 and _fits_2021(fields):
        return _strict(fields, "cccd_2021", today)
    if len(fields) == 6 and _fits_6(fields):
        return _strict([fields[0], "", *fields[1:]], "cccd_6", today)
    if len(fields) > 7 and _fits_2021(fields[:7]):
        extra = {f"field_{i + 1}": v for i, v in enumerate(fields[7:], start=7) if v}
        return _strict(fields[:7], "can_cuoc_2024", today, extra)
    return _tolerant(fields, today)


def describe(parsed: CccdQr | AppointmentQr | PatientCodeQr) -> dict:
    """JSON-friendly fields (for `kiosk scan-image`; contains personal data)."""
    if isinstance(parsed, (AppointmentQr, PatientCodeQr)):
        return {"kind": parsed.kind, "code": parsed.code}
    key = parsed.access_key()
    return {
        "kind": KIND_CCCD,
        "layout": parsed.layout,
        "fields": {
            "citizen_id": parsed.citizen_id,
            "old_id": parsed.old_id,
            "full_name": parsed.full_name,
            "birth_date": parsed.birth_date.isoformat(),
            "sex": parsed.sex,
            "address": parsed.address,
            "issue_date": parsed.issue_date.isoformat() if parsed.issue_date else None,
            "extra": parsed.extra,
        },
        "keys": {
            "can": key.can,
            "bac": {
                "document_number": key.document_number,
                "birth_date": key.birth_date.isoformat() if key.birth_date else None,
                "expiry_date": key.expiry_date.isoformat() if key.expiry_date else None,
            } if key.has_bac else None,
        },
    }


# --- layout helpers -----------------------------------------------------------


def _looks_like_cccd(fields: list[str]) -> bool:
    """Five or more pipe-separated fields, one of them an ID-like number, a
    date or Nam/Nữ: then errors are reported as a damaged CCCD QR."""
    return len(fields) >= 5 and any(
        (f.isdigit() and 9 <= len(f) <= 13) or _date_like(f) or _sex_like(f) for f in fields)


def _date_like(value: str) -> bool:
    return bool(_DATE_COMPACT.match(value) or _DATE_SLASHED.match(value))


def _fits_2021(f: list[str]) -> bool:
    return _date_like(f[3]) and _date_like(f[6]) and _sex_like(f[4])


def _fits_6(f: list[str]) -> bool:
    return _date_like(f[2]) and _date_like(f[5]) and _sex_like(f[3])


def _sex_like(value: str) -> bool:
    return _norm(value).casefold() in SEX_TO_GENDER


def _norm(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def _parse_date(value: str, what: str) -> date:
    m = _DATE_COMPACT.match(value) or _DATE_SLASHED.match(value)
    if not m:
        raise InvalidCccdQr(f"CCCD QR: {what} is not a date (DDMMYYYY or dd/MM/yyyy)")
    day, month, year = (int(g) for g in m.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidCccdQr(f"CCCD QR: {what} is not a calendar date") from None


def _check_dates(birth: date, issue: date | None, today: date) -> None:
    try:
        input_rules.birth_date(birth, "date of birth", today=today)
    except input_rules.InputRefused:
        raise InvalidCccdQr("CCCD QR: date of birth is outside 1900..today") from None
    if issue is not None and (issue < birth or issue > today):
        raise InvalidCccdQr("CCCD QR: issue date is before the birth date or in the future")


def _check_id(citizen_id: str) -> None:
    if not is_valid_citizen_id(citizen_id):
        raise InvalidCccdQr("CCCD QR: field 1 (ID number) is not 12 digits")


def _check_name(name: str) -> str:
    """kiosk.identity.input_rules for card data: invisible characters removed, NFC,
    whitespace collapsed, letters only, at most 100 characters."""
    try:
        return input_rules.name(name, "full name", typed=False)
    except input_rules.InputRefused as exc:
        raise InvalidCccdQr(f"CCCD QR: {exc}") from None


def _check_address(address: str | None) -> str | None:
    if not address or input_rules.card_text(address) is None:
        return None
    try:
        return input_rules.address(address, "address", typed=False)
    except input_rules.InputRefused as exc:
        raise InvalidCccdQr(f"CCCD QR: {exc}") from None


def _clean_extra(extra: dict) -> dict[str, str]:
    cleaned = {k: input_rules.card_text(v) for k, v in extra.items()}
    return {k: v for k, v in cleaned.items() if v}


def _strict(f: list[str], layout: str, today: date, extra: dict | None = None) -> CccdQr:
    citizen_id, old_id, name, dob, sex, address, issued = f
    _check_id(citizen_id)
    if old_id and not (_DIGITS.match(old_id) and len(old_id) in (9, 12)):
        raise InvalidCccdQr("CCCD QR: field 2 (old ID) is not 9 or 12 digits")
    birth = _parse_date(dob, "date of birth")
    issue = _parse_date(issued, "issue date")
    _check_dates(birth, issue, today)
    return CccdQr(
        layout=layout, citizen_id=citizen_id, full_name=_check_name(name), birth_date=birth,
        sex=SEX_TO_GENDER[_norm(sex).casefold()], address=_check_address(address),
        issue_date=issue, old_id=old_id or None, extra=_clean_extra(extra or {}),
    )


def _pick_name(texts: list[tuple[int, str]]) -> int | None:
    """Card names are upper-case words without digits or commas; addresses
    have commas and often digits."""
    plain = [(i, t) for i, t in texts if not _HAS_DIGIT.search(t) and "," not in t]
    upper = [(i, t) for i, t in plain if t == t.upper()]
    for group in (upper, plain):
        if group:
            return group[0][0]
    return None


def _tolerant(fields: list[str], today: date) -> CccdQr:
    """Fields in an unknown order: recognise each by its shape. The first
    12-digit number is the ID, 9-digit numbers old IDs, the earliest valid date
    the birth date and the latest the issue date, the first letters-only field
    the name, the longest remaining text the address; the rest goes to extra."""
    citizen_id = old_id = sex = None
    dates: list[date] = []
    texts: list[tuple[int, str]] = []
    extra: dict[str, str] = {}
    for i, value in enumerate(fields):
        label = f"field_{i + 1}"
        if not value:
            continue
        if _DIGITS.match(value) and len(value) == 12 and citizen_id is None:
            citizen_id = value
        elif _DIGITS.match(value) and len(value) in (9, 12) and old_id is None:
            old_id = value
        elif _date_like(value):
            dates.append(_parse_date(value, label))
        elif _DATE_SHAPED.match(value):  # e.g. 1990-05-01: unreadable, so never replaced by another date
            raise InvalidCccdQr(f"CCCD QR: {label} is a date in an unknown form (DDMMYYYY or dd/MM/yyyy expected)")
        elif _sex_like(value) and sex is None:
            sex = SEX_TO_GENDER[_norm(value).casefold()]
        elif _HAS_LETTER.search(value):
            texts.append((i, _norm(value)))
        else:
            extra[label] = value
    if citizen_id is None:
        raise InvalidCccdQr("CCCD QR: no 12-digit ID number")
    if not dates:
        raise InvalidCccdQr("CCCD QR: no date of birth")
    dates.sort()
    birth, issue = dates[0], (dates[-1] if len(dates) > 1 else None)
    _check_dates(birth, issue, today)
    name_at = _pick_name(texts)
    if name_at is None:
        raise InvalidCccdQr("CCCD QR: no full name")
    rest = [(i, t) for i, t in texts if i != name_at]
    address_at = max(rest, key=lambda it: len(it[1]))[0] if rest else None
    for i, t in rest:
        if i != address_at:
            extra[f"field_{i + 1}"] = t
    if dates[1:-1]:
        extra["other_dates"] = ",".join(d.isoformat() for d in dates[1:-1])
    return CccdQr(
        layout="tolerant", citizen_id=citizen_id, full_name=_check_name(fields[name_at]),
        birth_date=birth, sex=sex or "unknown",
        address=_check_address(dict(texts).get(address_at)) if address_at is not None else None,
        issue_date=issue, old_id=old_id, extra=_clean_extra(extra),
    )
