"""One set of rules for what the kiosk accepts as a patient's data.

Every entry point uses these functions: the CLI (`kiosk checkin`,
`kiosk read-card`), the keypad (``kiosk.journey.machine``), the CCCD QR parser
(``kiosk.identity.qr_payload``), the chip (``devices.card.identity``) and the admin
screen's test read. A value either comes back *canonical* or the function
raises ``InputRefused``, which names the field (``--dob``, ``keypad``, ``CCCD
QR full name``…) and carries a short patient sentence (Vietnamese and English)
saying what to do next. Nothing else is raised, and an error text never
quotes the refused value (it may be personal data).

The rules:

- ID numbers and codes are ASCII digits ``0-9`` only, matched in full: no
  surrounding spaces, no trailing newline. Arabic-Indic (``٠١٢``), full-width
  (``０１２``) and other Unicode digits are *refused, not converted*: the same
  person typed with another digit form must never become a second Patient in
  the HIS, and a silent conversion would hide a broken keyboard or scanner.
- Names and addresses are NFC-normalised and their whitespace collapsed to
  single spaces. Control characters (C0, C1, DEL, ESC, tab, newline), bidi
  controls (U+202A–202E, U+2066–2069, U+200E/F, U+061C), zero-width and
  other invisible format characters (U+200B–U+200D, U+FEFF, U+00AD) are
  *refused* (``InvisibleCharacters``, a sentence asking the patient to type
  or scan again) — typed, from a QR code or from the chip alike: a name that
  only looks right must not reach the HIS. (Text from the HIS itself is
  cleaned instead: ``kiosk.identity.text_safety.from_system``.) Names: 1–100
  characters, at least one letter, no digits. Addresses: 1–300 characters,
  ASCII digits only.
- Dates of birth lie between 1900-01-01 and today; typed as ``YYYY-MM-DD``.
- Check-in ids are UUIDs in canonical form (hyphenated, lower case) — what a
  ``urn:uuid:`` identifier needs.
"""
from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date

from kiosk.errors import InvalidIdentity
from kiosk.identity import text_safety

NAME_MAX = 100
ADDRESS_MAX = 300
FIRST_BIRTH_DATE = date(1900, 1, 1)

# Invisible characters that reorder or hide text; all are Unicode "format"
# (Cf) characters, listed here because the brief of issue #15 names them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Categories never accepted in text: controls, format characters (bidi, zero
# width), surrogates, private use and unassigned code points.
_UNSAFE_CATEGORIES = text_safety.UNSAFE_CATEGORIES
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DEPARTMENT = re.compile(r"[A-Za-z0-9_.\-]{1,32}")
_BOOKING_CODE = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
_PATIENT_CODE = re.compile(r"[A-Za-z0-9.\-/]{1,40}")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class InputRefused(InvalidIdentity):
    """A value refused by the input rules. ``field`` names where it came
    from (a CLI option, ``keypad``, a QR or chip field); ``str(err)`` is the
    staff/CLI text ``FIELD: expected …``; ``patient_message_key`` the patient
    sentence. Never contains the refused value."""

    def __init__(self, field: str, expected: str, *, key: str):
        super().__init__(f"{field}: expected {expected}", key=key)
        self.field = field
        self.expected = expected


class InvisibleCharacters(InputRefused):
    """A text holding control, escape, bidi or zero-width characters."""

    def __init__(self, field: str, what: str):
        super().__init__(field, f"{what}, without control, escape, zero-width or bidi characters",
                         key="error.input.invisible")


# --- digits and codes ----------------------------------------------------------

def digits(value, count: int | tuple[int, ...], field: str, *, key: str = "error.input.code",
           what: str = "") -> str:
    """Exactly ``count`` ASCII digits (one of ``count`` when a tuple), nothing else."""
    counts = (count,) if isinstance(count, int) else tuple(count)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) in counts:
        return value
    n = " or ".join(map(str, counts))
    raise InputRefused(field, f"{what or n + ' digits'} ({n} ASCII digits 0-9, nothing else)", key=key)


def citizen_id(value, field: str = "ID number") -> str:
    """The 12-digit CCCD number, ASCII digits only, in full."""
    return digits(value, 12, field, key="error.invalid_id", what="a 12-digit ID number")


def can(value, field: str = "CAN") -> str:
    """The card access number: the 6 digits printed on the card."""
    return digits(value, 6, field, key="error.input.can", what="the 6-digit card access number")


def old_id(value, field: str = "old ID number") -> str:
    """An old CMND number: 9 or 12 ASCII digits."""
    return digits(value, (9, 12), field, key="error.invalid_id", what="an old ID number of 9 or 12 digits")


def checkin_id(value, field: str = "check-in id") -> str:
    """A UUID in canonical form: 8-4-4-4-12 lower-case hex digits."""
    if isinstance(value, str) and _UUID.fullmatch(value):
        return value
    raise InputRefused(field, "a UUID in canonical form, e.g. 3f2b8c1e-0d4a-4c5e-9b7a-2e6f1d0c9a8b "
                       "(hyphenated, lower case)", key="error.input.code")


def new_checkin_id() -> str:
    return str(uuid.uuid4())


def department_code(value, field: str = "department") -> str:
    if isinstance(value, str) and _DEPARTMENT.fullmatch(value):
        return value
    raise InputRefused(field, "a department code of 1-32 ASCII letters, digits, '-', '_' or '.' (e.g. NOI)",
                       key="error.unknown_department")


def patient_code(value, field: str = "patient code") -> str:
    """A hospital patient code (mã bệnh nhân), e.g. BN-0012345: ASCII letters, digits and - . / only."""
    if isinstance(value, str) and _PATIENT_CODE.fullmatch(value):
        return value
    raise InputRefused(field, "a patient code of 1-40 ASCII letters, digits, '-', '.' or '/' (e.g. BN-0012345)",
                       key="error.input.code")


def booking_code(value, field: str = "booking code") -> str:
    if isinstance(value, str) and _BOOKING_CODE.fullmatch(value):
        return value
    raise InputRefused(field, "a booking code of 1-64 ASCII letters, digits, '-', '_', '.' or ':'",
                       key="error.input.code")


# --- text -----------------------------------------------------------------------

def _unsafe(ch: str) -> bool:
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in _UNSAFE_CATEGORIES


def _canonical(value: str) -> str:
    """NFC, whitespace runs collapsed to one space, no space at the ends."""
    return unicodedata.normalize("NFC", " ".join(unicodedata.normalize("NFC", value).split()))


def _text(value, field: str, *, typed: bool, limit: int, key: str, what: str) -> str:
    """``typed`` is kept for the callers' sake: typed, QR and chip text follow the same rules."""
    if not isinstance(value, str):
        raise InputRefused(field, what, key=key)
    if any(_unsafe(ch) for ch in value):
        raise InvisibleCharacters(field, what)
    text = _canonical(value)
    if not text:
        raise InputRefused(field, f"{what}, not empty", key=key)
    if len(text) > limit:
        raise InputRefused(field, f"{what} of at most {limit} characters", key=key)
    return text


def name(value, field: str = "name", *, typed: bool = True) -> str:
    """A person's name: canonical text of 1-100 characters, with a letter and no digit."""
    what = f"a name of letters (at most {NAME_MAX} characters)"
    text = _text(value, field, typed=typed, limit=NAME_MAX, key="error.input.name", what=what)
    if any(unicodedata.category(ch).startswith("N") for ch in text) or not any(ch.isalpha() for ch in text):
        raise InputRefused(field, f"{what}, with letters and without digits", key="error.input.name")
    return text


def address(value, field: str = "address", *, typed: bool = True) -> str:
    """An address: canonical text of 1-300 characters."""
    what = f"an address (at most {ADDRESS_MAX} characters)"
    text = _text(value, field, typed=typed, limit=ADDRESS_MAX, key="error.input.address", what=what)
    if text_safety.foreign_digits(text):
        raise InputRefused(field, f"{what}, with ASCII digits 0-9", key="error.input.address")
    return text


def card_text(value: str | None, field: str = "card text") -> str | None:
    """Any other text read from a card or a QR code (nationality, parents'
    names…): canonical, None when empty; control and invisible characters
    are refused (``InvisibleCharacters``) as in names."""
    if not isinstance(value, str):
        return None
    if any(_unsafe(ch) for ch in value):
        raise InvisibleCharacters(field, "a text")
    return _canonical(value)[:ADDRESS_MAX] or None


# --- dates ----------------------------------------------------------------------

BIRTH_DATE_EXPECTED = "a date YYYY-MM-DD between 1900-01-01 and today"


def birth_date(value, field: str = "date of birth", *, today: date | None = None) -> date:
    """A date of birth between 1900-01-01 and today; text must be ``YYYY-MM-DD``."""
    today = today or date.today()
    if isinstance(value, str):
        m = _ISO_DATE.fullmatch(value)
        try:
            value = date(*map(int, m.groups())) if m else None
        except ValueError:
            value = None
    if isinstance(value, date) and FIRST_BIRTH_DATE <= value <= today:
        return value
    raise InputRefused(field, BIRTH_DATE_EXPECTED, key="error.input.birth_date")


SEXES = {"male": "male", "female": "female", "nam": "male", "nữ": "female", "nu": "female",
         "m": "male", "f": "female", "other": "other", "unknown": "unknown"}


def sex(value, field: str = "sex") -> str:
    """FHIR gender from male/female/other/unknown, Nam/Nữ or M/F."""
    if isinstance(value, str) and not any(_unsafe(ch) for ch in value):
        found = SEXES.get(unicodedata.normalize("NFC", value).strip().lower())
        if found:
            return found
    raise InputRefused(field, "male or female (Nam/Nữ)", key="error.input.sex")
