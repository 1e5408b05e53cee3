"""QR payload parsers: CCCD layouts, appointment codes, typed errors."""
from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.config.loader import CameraSection, config_from_dict
from kiosk.demo_data import demo_people, person_identity
from kiosk.domain import AccessKey, Assurance, IdentitySource
from kiosk.errors import ConfigError, KioskError
from kiosk.identity.card_expiry import card_expiry
from kiosk.identity.qr_payload import (
    AppointmentQr,
    CccdQr,
    InvalidCccdQr,
    QrPayloadError,
    UnsupportedQr,
    describe,
    parse_qr,
)
from kiosk.texts.messages import MESSAGES

TODAY = date(2026, 11, 25)
AN = "001093012345|012345678|NGUYỄN VĂN AN|05011993|Nam|Số 12 Ngõ 34 Phố Huế, Phường Hàng Bài, Quận Hoàn Kiếm, Hà Nội|10042021"


def _payload(p: dict) -> str:
    dmy = lambda iso: date.fromisoformat(iso).strftime("%d%m%Y")  # noqa: E731
    return "|".join([p["citizen_id"], p["old_id"], p["full_name"], dmy(p["birth_date"]), p["sex"],
                     p["address"], dmy(p["issue_date"])])


@pytest.mark.parametrize("person", demo_people(), ids=lambda p: p["key"])
def test_demo_cards_parse_to_the_same_identity_as_the_chip(person):
    parsed = parse_qr(_payload(person), today=TODAY)
    assert isinstance(parsed, CccdQr) and parsed.layout == "cccd_2021"
    chip = person_identity(person)
    ident = parsed.identity()
    assert ident.source is IdentitySource.CCCD_QR and ident.assurance is Assurance.QR
    for attr in ("citizen_id", "full_name", "birth_date", "sex", "address", "old_id", "issue_date"):
        assert getattr(ident, attr) == getattr(chip, attr), attr


def test_2021_card_fields_keys_and_expiry():
    parsed = parse_qr(AN, today=TODAY)
    assert parsed.full_name == "NGUYỄN VĂN AN" and parsed.sex == "male" and parsed.old_id == "012345678"
    key = parsed.access_key()
    assert isinstance(key, AccessKey) and key.has_bac
    assert key.can == "012345" and key.document_number == "093012345"
    assert key.birth_date == date(1993, 1, 5)
    assert key.expiry_date == date(2033, 1, 5)  # the sample card's MRZ expiry
    assert parsed.identity().expiry_date == date(2033, 1, 5)


def test_bom_and_trailing_crlf_are_ignored():
    assert parse_qr("\ufeff" + AN + "\r\n", today=TODAY) == parse_qr(AN, today=TODAY)


def test_empty_old_id_and_female():
    text = "027185004321||TRẦN THỊ BÍCH NGỌC|22071985|Nữ|Thôn Đông, Xã Phù Chẩn|15012022"
    parsed = parse_qr(text, today=TODAY)
    assert parsed.old_id is None and parsed.sex == "female"


def test_six_field_variant_with_slashed_dates():
    parsed = parse_qr("027185004321|TRẦN THỊ BÍCH NGỌC|22/07/1985|Nữ|Thôn Đông|15/01/2022", today=TODAY)
    assert parsed.layout == "cccd_6"
    assert (parsed.citizen_id, parsed.birth_date, parsed.issue_date, parsed.old_id) == \
        ("027185004321", date(1985, 7, 22), date(2022, 1, 15), None)


def test_decomposed_unicode_is_normalised():
    import unicodedata

    nfd = unicodedata.normalize("NFD", "NGUYỄN VĂN AN")
    parsed = parse_qr(AN.replace("NGUYỄN VĂN AN", nfd), today=TODAY)
    assert parsed.full_name == "NGUYỄN VĂN AN"
    assert parse_qr(AN.replace("|Nam|", "|" + unicodedata.normalize("NFD", "Nữ") + "|"), today=TODAY).sex == "female"


def test_2024_card_extra_fields_are_kept():
    text = ("027321009876||PHẠM NGUYỄN KHÁNH LINH|09092021|Nữ|Khu phố Đình, Phường Đông Ngàn|01072024"
            "|027321000001|PHẠM VĂN BÌNH|NGUYỄN THỊ HOA|")
    parsed = parse_qr(text, today=TODAY)
    assert parsed.layout == "can_cuoc_2024"
    assert parsed.extra == {"field_8": "027321000001", "field_9": "PHẠM VĂN BÌNH", "field_10": "NGUYỄN THỊ HOA"}
    assert parsed.identity().extra == parsed.extra
    # issued under the 2023 law to a 2-year-old: renewal at 14
    assert parsed.access_key().expiry_date == date(2035, 9, 9)


def test_unknown_field_order_is_read_by_shape():
    fields = ["Nữ", "22071985", "Thôn Đông, Xã Phù Chẩn, Bắc Ninh", "TRẦN THỊ BÍCH NGỌC", "15012022",
              "027185004321", "TRẦN VĂN CHA"]
    parsed = parse_qr("|".join(fields), today=TODAY)
    assert parsed.layout == "tolerant"
    assert parsed.citizen_id == "027185004321" and parsed.full_name == "TRẦN THỊ BÍCH NGỌC"
    assert parsed.birth_date == date(1985, 7, 22) and parsed.issue_date == date(2022, 1, 15)
    assert parsed.sex == "female" and parsed.address.startswith("Thôn Đông")
    assert "TRẦN VĂN CHA" in parsed.extra.values()


def test_appointment_codes_default_and_configured_pattern():
    assert parse_qr("LH2611252345") == AppointmentQr(code="LH2611252345")
    assert parse_qr("APPT:LH2611252345\r\n") == AppointmentQr(code="LH2611252345")
    assert parse_qr("LH2611252345", CameraSection().appointment_pattern).kind == "appointment"
    custom = r"^BOOK/(?P<code>\d{8})$"
    assert parse_qr("BOOK/12345678", custom).code == "12345678"
    with pytest.raises(UnsupportedQr):
        parse_qr("LH2611252345", custom)


def test_configured_pattern_is_validated():
    with pytest.raises(ConfigError, match="camera.appointment_pattern"):
        config_from_dict({"camera": {"appointment_pattern": "^(?P<nocode>x)$"}})
    with pytest.raises(ConfigError, match="camera.roi"):
        config_from_dict({"camera": {"roi": [0.5, 0.1, 0.2, 0.9]}})


@pytest.mark.parametrize("text", ["https://example.vn/pay?id=1", "", "hello", "12345", "\ufeff\r\n",
                                  "a|b|c|d|e|f|g", "LH1", "APPT:"])
def test_anything_else_is_not_supported(text):
    with pytest.raises(UnsupportedQr) as info:
        parse_qr(text)
    assert info.value.patient_message_key == "error.qr_unsupported"


@pytest.mark.parametrize("mutate, field", [
    (lambda f: f.__setitem__(0, "00109301234"), "ID"),
    (lambda f: f.__setitem__(3, "31022000"), "date of birth"),
    (lambda f: f.__setitem__(3, "05012031"), "date of birth"),  # in the future
    (lambda f: f.__setitem__(3, "05011850"), "date of birth"),
    (lambda f: f.__setitem__(6, "10041990"), "issue date"),  # before birth
    (lambda f: f.__setitem__(6, "10042099"), "issue date"),
    (lambda f: f.__setitem__(1, "12AB"), "old ID"),
    (lambda f: f.__setitem__(2, "NGUYỄN 123"), "full name"),
])
def test_malformed_cccd_gives_a_typed_error_without_personal_data(mutate, field):
    fields = AN.split("|")
    mutate(fields)
    with pytest.raises(InvalidCccdQr) as info:
        parse_qr("|".join(fields), today=TODAY)
    text = str(info.value)
    assert field in text
    for personal in ("001093012345", "NGUYỄN", "05011993", "Phố Huế", "10042021"):
        assert personal not in text
    assert info.value.patient_message_key == "error.qr_invalid"


def test_unknown_sex_in_the_2021_layout_falls_back_to_shape_reading():
    parsed = parse_qr(AN.replace("|Nam|", "|X|"), today=TODAY)
    assert parsed.layout == "tolerant" and parsed.sex == "unknown"
    assert parsed.citizen_id == "001093012345" and parsed.birth_date == date(1993, 1, 5)


def test_repr_hides_personal_data():
    parsed = parse_qr(AN, today=TODAY)
    for text in (repr(parsed), repr(parsed.identity()), repr(parsed.access_key())):
        assert "001093012345" not in text and "NGUYỄN" not in text and "1993" not in text


def test_describe_for_the_cli():
    d = describe(parse_qr(AN, today=TODAY))
    assert d["kind"] == "cccd" and d["fields"]["full_name"] == "NGUYỄN VĂN AN"
    assert d["keys"] == {"can": "012345", "bac": {"document_number": "093012345", "birth_date": "1993-01-05",
                                                   "expiry_date": "2033-01-05"}}
    assert describe(AppointmentQr("LH1234")) == {"kind": "appointment", "code": "LH1234"}


def test_patient_messages_exist_in_both_languages():
    for key in ("error.qr_unsupported", "error.qr_invalid"):
        assert MESSAGES[key]["vi"] and MESSAGES[key]["en"]


# --- property tests ------------------------------------------------------------

VN_LETTERS = "AĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXYÁÀẢÃẠẮẰẲẴẶẤẦẨẪẬÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ"
words = st.text(alphabet=VN_LETTERS, min_size=1, max_size=7)
names = st.lists(words, min_size=2, max_size=4).map(" ".join)
addresses = st.lists(st.one_of(words, st.integers(1, 300).map(str)), min_size=1, max_size=8).map(
    lambda parts: ", ".join(parts))
births = st.dates(min_value=date(1920, 1, 1), max_value=date(2024, 12, 31))


@st.composite
def cards(draw):
    birth = draw(births)
    issue = draw(st.dates(min_value=max(birth, date(2016, 1, 1)), max_value=TODAY))
    return {
        "id": draw(st.text(alphabet="0123456789", min_size=12, max_size=12)),
        "old": draw(st.one_of(st.just(""), st.text(alphabet="0123456789", min_size=9, max_size=9))),
        "name": draw(names), "birth": birth, "issue": issue, "sex": draw(st.sampled_from(["Nam", "Nữ"])),
        "address": draw(addresses),
    }


def _format(card, layout):
    if layout == "cccd_6":
        return "|".join([card["id"], card["name"], f"{card['birth']:%d/%m/%Y}", card["sex"], card["address"],
                         f"{card['issue']:%d/%m/%Y}"])
    return "|".join([card["id"], card["old"], card["name"], f"{card['birth']:%d%m%Y}", card["sex"],
                     card["address"], f"{card['issue']:%d%m%Y}"])


PROPS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(cards(), st.sampled_from(["cccd_2021", "cccd_6"]), st.booleans(), st.booleans())
def test_valid_cards_round_trip(card, layout, bom, crlf):
    text = ("\ufeff" if bom else "") + _format(card, layout) + ("\r\n" if crlf else "")
    parsed = parse_qr(text, today=TODAY)
    assert parsed.layout == layout
    assert (parsed.citizen_id, parsed.full_name, parsed.birth_date, parsed.issue_date) == \
        (card["id"], card["name"], card["birth"], card["issue"])
    assert parsed.sex == {"Nam": "male", "Nữ": "female"}[card["sex"]]
    assert parsed.old_id == ((card["old"] or None) if layout == "cccd_2021" else None)
    key = parsed.access_key()
    assert key.can == card["id"][-6:] and key.document_number == card["id"][-9:]
    assert key.expiry_date == card_expiry(card["birth"], card["issue"])


@PROPS
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text):
    try:
        result = parse_qr(text, today=TODAY)
    except QrPayloadError:
        return
    assert result.kind in ("cccd", "appointment")


@PROPS
@given(cards(), st.randoms(use_true_random=False), st.integers(0, 6))
def test_shuffled_or_damaged_cards_give_a_result_or_a_typed_error(card, rnd: random.Random, damage):
    fields = _format(card, "cccd_2021").split("|")
    rnd.shuffle(fields)
    text = "|".join(fields)
    chars = list(text)
    for _ in range(damage):
        op = rnd.choice("dir")
        pos = rnd.randrange(len(chars) + 1)
        if op == "d" and pos < len(chars):
            del chars[pos]
        elif op == "i":
            chars.insert(pos, rnd.choice("|0123456789/ ĂƯx"))
        elif op == "r" and pos < len(chars):
            chars[pos] = rnd.choice("|09/Ữ")
    try:
        parsed = parse_qr("".join(chars), today=TODAY)
    except QrPayloadError as exc:
        assert isinstance(exc, KioskError) and exc.patient_message_key in MESSAGES
        return
    if damage == 0 and parsed.kind == "cccd":
        assert parsed.citizen_id == card["id"] and parsed.birth_date == card["birth"]
