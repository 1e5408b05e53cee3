"""Expiry date of a CCCD / Căn cước card, computed from the date of birth and
the issue date.

Why: the QR code on the card holds no expiry date, but the chip's BAC key
needs one (document number + birth date + expiry, ICAO 9303 Part 11). The
card's validity follows the renewal-age rules:

- Law on Citizen Identification 2014 (cards issued before 1 July 2024):
  the card is renewed at ages 25, 40 and 60; a card issued from 60 on has no
  expiry.
- Law on Identification 2023 (cards issued from 1 July 2024): ages 14, 25,
  40 and 60.
- Under both, a card issued within the 2 years before one of those ages stays
  valid until the next one.
- The expiry day is the holder's birthday in that year (sample card: born
  1993-01-05, issued 2021 → MRZ expiry 2033-01-05).

A holder born on 29 February gets 28 February in a common year
(unconfirmed on real cards; PACE with the CAN does not need the expiry).
"""
from __future__ import annotations

from datetime import date

LAW_2023_START = date(2024, 7, 1)
AGES_2014 = (25, 40, 60)
AGES_2023 = (14, 25, 40, 60)
GRACE_YEARS = 2


def renewal_ages(issue_date: date) -> tuple[int, ...]:
    """Renewal ages of the law in force on ``issue_date``."""
    return AGES_2023 if issue_date >= LAW_2023_START else AGES_2014


def birthday_in(birth_date: date, year: int) -> date:
    """The holder's birthday in ``year`` (29 Feb → 28 Feb in a common year)."""
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def card_expiry(birth_date: date, issue_date: date) -> date | None:
    """The card's expiry date, or None for a card without expiry (issued from
    the last renewal age, or within the 2 years before it)."""
    for age in renewal_ages(issue_date):
        renewal_day = birthday_in(birth_date, birth_date.year + age)
        grace_start = birthday_in(birth_date, birth_date.year + age - GRACE_YEARS)
        if issue_date < grace_start:
            return renewal_day
    return None
