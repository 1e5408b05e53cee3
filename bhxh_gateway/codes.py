"""What each ``maKetQua`` of the BHXH card check means for the kiosk.

From public HIS integrations (see the project's Vietnam rules reference):
000–004 are a usable card (003/004: a new card was issued, its data is in the
``...Moi`` fields); 010 expired; 05x and 130 no such card; 06x/070 name or
date of birth differ; 110 and 12x the card is withdrawn or stopped; 054, 055,
205 and 401 are about the kiosk's own request (staff identity, parameters,
login); 100, 101 and 500 are the gateway's data or server errors. A code not
listed is treated as "no usable answer" and named in the staff reason.
"""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.insurance.card_check import CoverageStatus

VALID, EXPIRED, NOT_FOUND = CoverageStatus.VALID, CoverageStatus.EXPIRED, CoverageStatus.NOT_FOUND
MISMATCH, UNAVAILABLE, REFUSED = CoverageStatus.MISMATCH, CoverageStatus.UNAVAILABLE, CoverageStatus.REFUSED

USABLE = frozenset({"000", "001", "002", "003", "004"})
NEW_CARD = frozenset({"003", "004"})
AUTH_FAILED = "401"

LOGIN_KEYS = "insurance.username and insurance.password_file"
STAFF_KEYS = "insurance.staff_name and insurance.staff_cccd"


@dataclass(frozen=True)
class Meaning:
    status: CoverageStatus
    message_key: str
    reason: str  # technical, for IT; never personal data
    about_card: bool  # the gateway answered about the card (not about the kiosk's request)


def _m(status, key, reason, about_card=True) -> Meaning:
    return Meaning(status, key, reason, about_card)


CODES: dict[str, Meaning] = {
    "000": _m(VALID, "coverage.valid", "card valid"),
    "001": _m(VALID, "coverage.valid", "card valid, managed by the Ministry of Defence's social security agency"),
    "002": _m(VALID, "coverage.valid", "card valid, managed by the Ministry of Public Security's social security "
                                       "agency"),
    "003": _m(VALID, "coverage.new_card", "old card expired, new card issued: the new card's code, dates and "
                                          "facility are used"),
    "004": _m(VALID, "coverage.new_card", "old card still valid, new card issued: the new card's code, dates and "
                                          "facility are used"),
    "010": _m(EXPIRED, "coverage.expired", "card expired"),
    "050": _m(NOT_FOUND, "coverage.not_found", "no card found for this number"),
    "051": _m(NOT_FOUND, "coverage.not_found", "wrong card code"),
    "052": _m(NOT_FOUND, "coverage.not_found", "wrong province code in the card code (characters 4-5)"),
    "053": _m(NOT_FOUND, "coverage.not_found", "wrong benefit code in the card code (character 3)"),
    "054": _m(REFUSED, "coverage.not_checked", "the staff CCCD sent with the lookup is not registered with BHXH: "
                                               "check insurance.staff_cccd", about_card=False),
    "055": _m(REFUSED, "coverage.not_checked", "the staff name does not match the registered staff member: "
                                               "check insurance.staff_name", about_card=False),
    "060": _m(MISMATCH, "coverage.mismatch", "name does not match the card"),
    "061": _m(MISMATCH, "coverage.mismatch", "name does not match the card (061)"),
    "070": _m(MISMATCH, "coverage.mismatch", "date of birth does not match the card"),
    "100": _m(UNAVAILABLE, "coverage.unavailable", "gateway data error (100)", about_card=False),
    "101": _m(UNAVAILABLE, "coverage.unavailable", "gateway data error (101)", about_card=False),
    "110": _m(REFUSED, "coverage.stopped", "card withdrawn (110)"),
    "120": _m(REFUSED, "coverage.stopped", "card reported stopped (120)"),
    "121": _m(REFUSED, "coverage.stopped", "card reported stopped or reduced (121)"),
    "122": _m(REFUSED, "coverage.stopped", "card reported stopped or reduced (122)"),
    "123": _m(REFUSED, "coverage.stopped", "card reported stopped or reduced (123)"),
    "124": _m(REFUSED, "coverage.stopped", "card reported stopped or reduced (124)"),
    "130": _m(NOT_FOUND, "coverage.child_no_card", "child without a card (130)"),
    "205": _m(REFUSED, "coverage.not_checked", f"the gateway rejected a parameter (205): check {STAFF_KEYS} "
                                               "and the card number and birth date formats", about_card=False),
    AUTH_FAILED: _m(REFUSED, "coverage.not_checked", f"authentication failed (401) after a new token: check "
                                                     f"{LOGIN_KEYS}, and that this kiosk's IP is registered",
                    about_card=False),
    "500": _m(UNAVAILABLE, "coverage.unavailable", "gateway server error (500)", about_card=False),
}


def meaning(code: str) -> Meaning:
    """The meaning of a result code; an unknown code is "no usable answer"."""
    found = CODES.get(code)
    if found is not None:
        return found
    return Meaning(UNAVAILABLE, "coverage.unavailable", f"unknown result code {code} from the gateway",
                   about_card=False)
