from datetime import date

from kiosk.demo_data import demo_person, person_identity
from kiosk.domain import AccessKey, Priority, age_on, age_priority, is_valid_citizen_id, mask_citizen_id, mask_name


def test_mask_name_keeps_family_and_given_name():
    assert mask_name("NGUYỄN VĂN AN") == "NGUYỄN V** AN"
    assert mask_name("TRẦN THỊ BÍCH NGỌC") == "TRẦN T** B*** NGỌC"
    assert mask_name("AN") == "A*"
    assert mask_name(None) == ""


def test_mask_citizen_id_shows_last_four_only():
    assert mask_citizen_id("001093012345") == "********2345"


def test_citizen_id_validation():
    assert is_valid_citizen_id("001093012345")
    for bad in ("", "12345", "00109301234x", "0010930123456", None):
        assert not is_valid_citizen_id(bad)


def test_age_priority_follows_law_15_2023():
    today = date(2026, 11, 25)
    assert age_priority(date(2021, 11, 26), today) == Priority.CHILD_UNDER_6  # 4 years old
    assert age_priority(date(2020, 11, 25), today) is None  # 6 today
    assert age_priority(date(1951, 11, 25), today) == Priority.ELDERLY_75  # 75 today
    assert age_priority(date(1951, 11, 26), today) is None  # 74
    assert age_priority(None, today) is None
    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25


def test_access_key_from_citizen_id():
    key = AccessKey.from_citizen_id("001093012345")
    assert key.can == "012345" and key.document_number == "093012345"
    assert not key.has_bac


def test_personal_data_never_in_repr():
    person = demo_person("an")
    ident = person_identity(person)
    text = repr(ident) + repr(AccessKey.from_citizen_id(person["citizen_id"]))
    for secret in (person["citizen_id"], person["full_name"], "1993", person["address"], "012345"):
        assert secret not in text
