"""Reading the gateway's replies: validated before use, never trusted.

A reply must be one JSON object whose ``maKetQua`` is a short string of
digits. For a usable card (000–004) every field the kiosk uses must be
well-formed (dates ``dd/MM/yyyy``, a 5-digit facility code); anything else
raises ``Garbled`` and the check becomes ``unavailable``. For the other codes
the answer is the code itself: malformed extra fields are dropped.

``ghiChu`` (free text that may name the patient) and the personal fields are
never read. Texts raised here are the kiosk's own, without reply content.
Every field read is NFC-normalised and loses control and invisible format
characters first, with an alarm to IT (``kiosk.identity.text_safety.from_system``:
log event ``text.hidden`` and ``kiosk_insurance_text_hidden_total`` naming the
field); digits other than ASCII 0-9 never match a field's pattern.

Sizes: the body is at most ``MAX_BODY_BYTES`` (read by ``bhxh_gateway.transport``
within ``insurance.timeout_s``), and every field kept is bounded by its pattern
(a card number 10–15 characters, a facility code 5 digits, dates), so no text of
the gateway's reaches a screen or a ticket longer than
``kiosk.identity.field_limits`` allows.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime

from bhxh_gateway.codes import AUTH_FAILED, NEW_CARD, USABLE, meaning
from kiosk.identity.text_safety import from_system
from kiosk.insurance.card_check import CoverageStatus, InsuranceCheck

MAX_BODY_BYTES = 256 * 1024

_CODE_RE = re.compile(r"^[0-9]{1,5}\Z")
_DATE_RE = re.compile(r"^([0-9]{2})/([0-9]{2})/([0-9]{4})\Z")
_FACILITY_RE = re.compile(r"^[0-9]{5}\Z")
_CARD_RE = re.compile(r"^[A-Z0-9]{10,15}\Z")
_AREA_RE = re.compile(r"^[A-Za-z0-9]{1,10}\Z")


class Garbled(Exception):
    """The reply cannot be used; the text says why (no reply content)."""


def json_object(body: bytes) -> dict:
    """The reply body as a JSON object."""
    if not body or not body.strip():
        raise Garbled("empty reply")
    if len(body) > MAX_BODY_BYTES:
        raise Garbled("reply too large")
    try:
        obj = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise Garbled("reply is not UTF-8 text") from None
    except ValueError:
        head = body.lstrip()[:1]
        raise Garbled("reply is HTML, not JSON" if head == b"<" else "reply is not valid JSON") from None
    if not isinstance(obj, dict):
        raise Garbled(f"reply is a JSON {type(obj).__name__}, not an object")
    return obj


def result_code(obj: dict) -> str:
    code = obj.get("maKetQua")
    if not isinstance(code, str):
        raise Garbled("maKetQua missing" if code is None else f"maKetQua is a {type(code).__name__}, not a string")
    code = from_system(code, "bhxh", "reply", "maKetQua") or ""
    if not _CODE_RE.match(code):
        raise Garbled("maKetQua is not a string of digits")
    return code


def _text(obj: dict, key: str, pattern: re.Pattern) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Garbled(f"{key} is a {type(value).__name__}, not a string")
    value = from_system(value, "bhxh", "reply", key) or ""
    if not pattern.match(value):
        raise Garbled(f"{key} is not well-formed")
    return value


def _date(obj: dict, key: str) -> date | None:
    text = _text(obj, key, _DATE_RE)
    if text is None:
        return None
    day, month, year = (int(x) for x in _DATE_RE.match(text).groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise Garbled(f"{key} is not a real date") from None


def _lenient(fn, *args):
    try:
        return fn(*args)
    except Garbled:
        return None


def interpret(obj: dict, *, queried_card: str, today: date, facility_code: str,
              checked_at: datetime) -> InsuranceCheck:
    """An ``InsuranceCheck`` from a reply object (``Garbled`` if unusable)."""
    code = result_code(obj)
    m = meaning(code)
    usable = code in USABLE
    get = (lambda fn, *a: fn(*a)) if usable else _lenient
    new = code in NEW_CARD
    suffix = "Moi" if new else ""
    valid_from = get(_date, obj, "gtTheTu" + suffix)
    valid_to = get(_date, obj, "gtTheDen" + suffix)
    facility = get(_text, obj, "maDKBD" + suffix, _FACILITY_RE)
    card = get(_text, obj, "maThe" + suffix, _CARD_RE)
    if new:
        facility = facility or get(_text, obj, "maDKBD", _FACILITY_RE)
        card = card or get(_text, obj, "maThe", _CARD_RE)
    five_years = get(_date, obj, "ngayDu5Nam")
    area = get(_text, obj, "maKV", _AREA_RE)
    if usable and valid_to is None:
        raise Garbled(f"code {code} without the card's end date ({'gtTheDenMoi' if new else 'gtTheDen'})")
    status, key, reason = m.status, m.message_key, m.reason
    matches = (facility == facility_code) if (facility and facility_code) else None
    if usable and valid_to < today:
        status, key = CoverageStatus.EXPIRED, "coverage.expired"
        reason = f"code {code} but the card's end date is before today"
    elif usable and not new and valid_from is not None and valid_from > today:
        status, key = CoverageStatus.NOT_YET_VALID, "coverage.not_yet_valid"
        reason = f"code {code} but the card's start date is after today"
    elif usable and matches is False:
        key = "coverage.valid_elsewhere"
        reason += "; registered at another facility (maDKBD differs from insurance.facility_code)"
    return InsuranceCheck(
        status=status, result_code=code, message_key=key, staff_reason=reason, checked_at=checked_at,
        about_card=m.about_card, card_number=card or queried_card, valid_from=valid_from, valid_to=valid_to,
        primary_care_facility=facility, facility_matches=matches, five_years_from=five_years, area_code=area,
        new_card=new)


def is_auth_failure(obj: dict) -> bool:
    return obj.get("maKetQua") == AUTH_FAILED


def parse_token(obj: dict, now_s: float) -> tuple[str, str, float]:
    """(access_token, id_token, expires_at) from a login reply. ``expires_in``
    is seconds (a number or numeric text) or an ISO date-time; when missing
    or unreadable, 5 minutes (tokens are said to last about 10)."""
    code = result_code(obj)
    if code != "200":
        raise LoginRefused(code)
    key = obj.get("APIKey")
    if not isinstance(key, dict):
        raise Garbled("login reply without an APIKey object")
    access, ident = key.get("access_token"), key.get("id_token")
    for name, value in (("access_token", access), ("id_token", ident)):
        if not isinstance(value, str) or not value.strip() or len(value) > 8192:
            raise Garbled(f"login reply without a usable {name}")
    return access, ident, now_s + _lifetime(key.get("expires_in"))


DEFAULT_TOKEN_LIFETIME_S = 300.0


def _lifetime(value) -> float:
    if isinstance(value, bool):
        return DEFAULT_TOKEN_LIFETIME_S
    if isinstance(value, (int, float)):
        return float(value) if 0 < value < 86400 * 7 else DEFAULT_TOKEN_LIFETIME_S
    if isinstance(value, str):
        text = value.strip()
        try:
            return _lifetime(float(text))
        except ValueError:
            pass
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # .NET writes 7 fraction digits
        try:
            at = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return DEFAULT_TOKEN_LIFETIME_S
        if at.tzinfo is None:
            return DEFAULT_TOKEN_LIFETIME_S
        return _lifetime((at - datetime.now(at.tzinfo)).total_seconds())
    return DEFAULT_TOKEN_LIFETIME_S


class LoginRefused(Exception):
    """The gateway answered the login with a code other than 200."""

    def __init__(self, code: str):
        super().__init__(f"login refused (maKetQua {code})")
        self.code = code
