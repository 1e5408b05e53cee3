"""Card expiry from the renewal-age rules (for the BAC key)."""
from __future__ import annotations

from datetime import date

import pytest

from kiosk.identity.card_expiry import birthday_in, card_expiry, renewal_ages


@pytest.mark.parametrize("birth, issue, expiry", [
    (date(1993, 1, 5), date(2021, 4, 10), date(2033, 1, 5)),  # the sample card: 28 → valid to 40
    (date(2000, 5, 20), date(2021, 5, 1), date(2025, 5, 20)),  # 20 → valid to 25
    (date(2000, 5, 20), date(2023, 5, 19), date(2025, 5, 20)),  # one day more than 2 years before 25
    (date(2000, 5, 20), date(2023, 5, 21), date(2040, 5, 20)),  # within 2 years before 25 → 40
    (date(2000, 5, 20), date(2023, 5, 20), date(2040, 5, 20)),  # exactly 2 years before 25 → 40
    (date(1985, 7, 22), date(2022, 1, 15), date(2025, 7, 22)),  # 36 → 40
    (date(1985, 7, 22), date(2023, 8, 1), date(2045, 7, 22)),  # 38: within 2 years of 40 → 60
    (date(1970, 3, 3), date(2021, 3, 3), date(2030, 3, 3)),  # 51 → 60
])
def test_2014_law_renewal_ages(birth, issue, expiry):
    assert card_expiry(birth, issue) == expiry


def test_issue_over_two_years_before_a_renewal_age():
    # 2021-05-19 is more than two years before the 25th birthday (2025-05-20)
    assert card_expiry(date(2000, 5, 20), date(2021, 5, 19)) == date(2025, 5, 20)


@pytest.mark.parametrize("birth, issue", [
    (date(1948, 3, 3), date(2021, 6, 1)),  # 73: no expiry
    (date(1962, 3, 3), date(2021, 6, 1)),  # 59, within 2 years of 60: no expiry
])
def test_no_expiry_from_58(birth, issue):
    assert card_expiry(birth, issue) is None


def test_2023_law_adds_age_14():
    assert renewal_ages(date(2024, 6, 30)) == (25, 40, 60)
    assert renewal_ages(date(2024, 7, 1)) == (14, 25, 40, 60)
    assert card_expiry(date(2021, 9, 9), date(2024, 7, 1)) == date(2035, 9, 9)
    assert card_expiry(date(2011, 1, 1), date(2024, 8, 1)) == date(2036, 1, 1)  # 13: within 2y of 14 → 25


def test_29_february_birthday():
    assert birthday_in(date(2000, 2, 29), 2025) == date(2025, 2, 28)
    assert card_expiry(date(2000, 2, 29), date(2021, 1, 1)) == date(2025, 2, 28)
