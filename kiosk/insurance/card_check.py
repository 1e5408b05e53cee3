"""Health insurance (BHYT) check: the domain types and the port.

The kiosk asks an ``InsuranceGateway`` whether a patient's card can be used
today and gets an ``InsuranceCheck`` back. The gateway never raises for its
own trouble (slow, down, garbled, credentials refused): the result then says
``unavailable`` or ``refused`` and ``staff_reason`` tells IT why. Only bad
input (a card number of the wrong shape, no name) raises ``InvalidIdentity``.

The card number is the 12-digit CCCD number since 15/8/2025 (NĐ 188/2025);
the 10-digit BHXH number and the old 15-character card code stay valid.

The adapter for the Vietnam Social Security gateway lives in ``bhxh_gateway``;
the journey and the check-in use only what is defined here.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from kiosk.errors import InvalidIdentity
from kiosk.operations.diagnostics import Check


class CoverageStatus(str, enum.Enum):
    VALID = "valid"  # the card can be used today (maybe a new card, maybe registered elsewhere)
    EXPIRED = "expired"  # the card's validity ended
    NOT_YET_VALID = "not_yet_valid"  # the card's validity begins after today
    NOT_FOUND = "not_found"  # no such card (or a wrong card code, a child without a card)
    MISMATCH = "mismatch"  # the card exists but the name or date of birth differs
    UNAVAILABLE = "unavailable"  # no usable answer: slow, down, server error, garbled reply
    REFUSED = "refused"  # the gateway said no: card withdrawn/stopped, or the kiosk's credentials/staff identity


@dataclass(frozen=True)
class InsuranceCheck:
    """One answer about one card. ``result_code`` is the gateway's code
    verbatim (None when it gave no answer). For a new card (``new_card``) the
    number, dates and facility are the new card's. ``facility_matches``
    compares the card's primary-care facility with this hospital's
    (``insurance.facility_code``); None when either is unknown.
    ``staff_reason`` is technical text for IT: codes and settings, never
    personal data. ``about_card`` is True when the gateway answered about the
    card itself, False for its own trouble or the kiosk's credentials."""

    status: CoverageStatus
    result_code: str | None
    message_key: str
    staff_reason: str
    checked_at: datetime
    about_card: bool = False
    card_number: str | None = field(default=None, repr=False)
    valid_from: date | None = None
    valid_to: date | None = None
    primary_care_facility: str | None = None
    facility_matches: bool | None = None
    five_years_from: date | None = None
    area_code: str | None = None
    new_card: bool = False

    @property
    def usable(self) -> bool:
        return self.status is CoverageStatus.VALID

    def to_json(self) -> dict:
        """The result without the card number (safe to log or print)."""
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {
            "status": self.status.value,
            "result_code": self.result_code,
            "about_card": self.about_card,
            "valid_from": iso(self.valid_from),
            "valid_to": iso(self.valid_to),
            "primary_care_facility": self.primary_care_facility,
            "facility_matches": self.facility_matches,
            "five_years_from": iso(self.five_years_from),
            "area_code": self.area_code,
            "new_card": self.new_card,
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "message_key": self.message_key,
            "staff_reason": self.staff_reason,
        }

    def to_record(self) -> dict:
        """Everything, the card number included: for the kiosk's own database
        only (the outbox and the recheck queue), where it is personal data
        purged after delivery. ``check_from_record`` reads it back."""
        return {**self.to_json(), "card_number": self.card_number}


def check_from_record(record: dict) -> InsuranceCheck:
    day = lambda v: date.fromisoformat(v) if v else None  # noqa: E731
    return InsuranceCheck(
        status=CoverageStatus(record["status"]), result_code=record.get("result_code"),
        message_key=record.get("message_key") or "coverage.not_checked", staff_reason=record.get("staff_reason", ""),
        checked_at=datetime.fromisoformat(record["checked_at"]), about_card=bool(record.get("about_card")),
        card_number=record.get("card_number"), valid_from=day(record.get("valid_from")),
        valid_to=day(record.get("valid_to")), primary_care_facility=record.get("primary_care_facility"),
        facility_matches=record.get("facility_matches"), five_years_from=day(record.get("five_years_from")),
        area_code=record.get("area_code"), new_card=bool(record.get("new_card")))


def no_answer(status: CoverageStatus, reason: str, checked_at: datetime, *,
              result_code: str | None = None) -> InsuranceCheck:
    """A result for gateway trouble (``unavailable``) or a refusal that is not
    about the card (``refused``: credentials, staff identity, parameters)."""
    key = "coverage.unavailable" if status is CoverageStatus.UNAVAILABLE else "coverage.not_checked"
    return InsuranceCheck(status=status, result_code=result_code, message_key=key, staff_reason=reason,
                          checked_at=checked_at, about_card=False)


class InsuranceGateway(Protocol):
    """Checks a BHYT card. ``birth_date`` is a date, or an int year for
    people whose card shows only the year of birth."""

    def check(self, card_number: str, full_name: str, birth_date: date | int, *,
              timeout_s: float | None = None) -> InsuranceCheck:
        """Never raises for gateway trouble; ``InvalidIdentity`` for bad input."""
        ...

    def close(self) -> None: ...

    def diagnose(self) -> list[Check]: ...


# 12-digit CCCD, 10-digit BHXH number, or the old 15-character card code:
# 2 letters (beneficiary group), benefit level digit, 2-digit province, BHXH number.
_CARD_RE = re.compile(r"^(?:[0-9]{12}|[0-9]{10}|[A-Z]{2}[0-9]{13})$")


def normalize_card_number(value: str) -> str:
    """The card number as the gateway wants it (spaces removed, letters in
    upper case); ``InvalidIdentity`` when it has none of the three shapes."""
    text = re.sub(r"\s+", "", value or "").upper()
    if not _CARD_RE.match(text):
        raise InvalidIdentity("card number: expected a 12-digit CCCD number, a 10-digit BHXH number "
                              "or a 15-character card code")
    return text


def check_birth_date(value: date | int) -> date | int:
    """A full date of birth, or the year alone (cards that show only the year)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 1880 <= value <= 2200:
        return value
    raise InvalidIdentity("birth date: expected a date or a year")
