"""kiosk.identity.input_rules: every string either passes and is then canonical, or is
refused with ``InputRefused`` naming the field — never another exception.
Plus the cases of issue #15 at each entry point that does not need a process
(keypad, QR parser, chip identity, admin test read)."""
from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kiosk.domain import is_valid_citizen_id
from kiosk.identity import input_rules as rules
from kiosk.identity.qr_payload import InvalidCccdQr, QrPayloadError, UnsupportedQr, parse_qr
from kiosk.journey import machine as j

TODAY = date(2025, 11, 26)
ARABIC_INDIC = "".join(chr(0x0660 + int(d)) for d in "001093012345")
FULL_WIDTH = "".join(chr(0xFF10 + int(d)) for d in "001093012345")
NASTY = ["\x1b[31m", "\x07", "\x7f", "\x85", "\u202e", "\u2066", "\u200f", "\u061c", "\u200b", "\ufeff"]

any_text = st.text(alphabet=st.characters(codec=None), max_size=300)
mixed_text = st.one_of(
    any_text,
    st.lists(st.one_of(st.sampled_from(NASTY + [" ", "\t", "\n", "  "]),
                       st.text(alphabet="NGUYỄNVănAnhđ ,.-0123", min_size=1, max_size=8)), max_size=30)
    .map("".join),
)


def assert_canonical(text: str, limit: int) -> None:
    assert text == unicodedata.normalize("NFC", text)
    assert text == " ".join(text.split())  # collapsed, no space at the ends
    assert 1 <= len(text) <= limit
    assert not any(rules._unsafe(ch) for ch in text)


@pytest.mark.parametrize("fn", [rules.citizen_id, rules.can, rules.old_id, rules.checkin_id,
                                rules.department_code, rules.booking_code, rules.sex])
@given(value=any_text)
@settings(max_examples=150, deadline=None)
def test_codes_pass_canonical_or_are_refused_naming_the_field(fn, value):
    try:
        out = fn(value, "FIELD")
    except rules.InputRefused as exc:
        assert exc.field == "FIELD" and str(exc).startswith("FIELD: expected ")
        with pytest.raises(rules.InputRefused) as other:
            fn("\x00", "FIELD")
        assert str(exc) == str(other.value)  # the same text whatever the value: it is never quoted
        return
    assert out.isascii() or fn is rules.sex
    assert fn(out, "FIELD") == out  # canonical: passing it again changes nothing


@pytest.mark.parametrize("fn, limit", [(rules.name, rules.NAME_MAX), (rules.address, rules.ADDRESS_MAX)])
@pytest.mark.parametrize("typed", [True, False])
@given(value=mixed_text)
@settings(max_examples=200, deadline=None)
@example(value="Nguyễn\u202e Văn An")
@example(value="\x1b[31mNGUYỄN VĂN AN\x1b[0m")
@example(value="A" * 5000)
def test_text_passes_canonical_or_is_refused_naming_the_field(fn, limit, typed, value):
    try:
        out = fn(value, "FIELD", typed=typed)
    except rules.InputRefused as exc:
        assert exc.field == "FIELD" and str(exc).startswith("FIELD: expected ")
        return
    assert_canonical(out, limit)
    assert fn(out, "FIELD", typed=True) == out  # canonical output passes even as typed input
    if typed:
        assert not any(rules._unsafe(ch) for ch in value)  # typed input is refused, never cleaned


@given(value=any_text)
@settings(max_examples=150, deadline=None)
def test_birth_date_text_passes_in_range_or_is_refused(value):
    try:
        out = rules.birth_date(value, "--dob", today=TODAY)
    except rules.InputRefused as exc:
        assert str(exc) == "--dob: expected a date YYYY-MM-DD between 1900-01-01 and today"
        return
    assert date(1900, 1, 1) <= out <= TODAY and out.isoformat() == value


@pytest.mark.parametrize("value", [ARABIC_INDIC, FULL_WIDTH, "001093012345\n", " 001093012345", "00109301234５",
                                   "00109301234", "0010930123456", "", "٠٠١٠٩٣٠١٢٣٤٥"])
def test_ids_in_other_digit_forms_are_refused_not_converted(value):
    assert not is_valid_citizen_id(value)
    with pytest.raises(rules.InputRefused) as err:
        rules.citizen_id(value, "--id")
    assert str(err.value).startswith("--id: expected a 12-digit ID number")
    assert err.value.patient_message_key == "error.invalid_id"


def test_names_with_controls_are_refused_typed_or_from_a_card():
    for bad in ("Nguyễn\x1b[2J Văn An", "An\x07", "An\x7f", "An\x85", "\u202eAn", "An\u2066", "An\u200e",
                "An\u061c", "An\n", "An\u00ad", "A\u200bn", "A\ufeffn"):
        for typed in (True, False):
            with pytest.raises(rules.InvisibleCharacters, match="^--name: expected") as err:
                rules.name(bad, "--name", typed=typed)
            assert err.value.patient_message_key == "error.input.invisible"
    # NFD input (as some keyboards send it) becomes NFC
    assert rules.name(unicodedata.normalize("NFD", "Nguyễn Văn An")) == "Nguyễn Văn An"
    with pytest.raises(rules.InputRefused, match="at most 100"):
        rules.name("A" * 5000, "--name")
    with pytest.raises(rules.InputRefused):
        rules.name("Nguyen 2", "--name")


def test_birth_dates_outside_1900_to_today_are_refused():
    assert rules.birth_date("1900-01-01", today=TODAY) == date(1900, 1, 1)
    assert rules.birth_date(TODAY, today=TODAY) == TODAY
    for bad in ("2099-01-01", "1899-12-31", (TODAY + timedelta(days=1)).isoformat(), "1990-02-30", "19900101",
                "1990-1-1", "١٩٩٠-٠١-٠١", "1990-01-01\n", date(2099, 1, 1)):
        with pytest.raises(rules.InputRefused, match="between 1900-01-01 and today"):
            rules.birth_date(bad, today=TODAY)


def test_checkin_ids_are_canonical_uuids():
    assert rules.checkin_id("3f2b8c1e-0d4a-4c5e-9b7a-2e6f1d0c9a8b")
    for bad in ("3F2B8C1E-0D4A-4C5E-9B7A-2E6F1D0C9A8B", "3f2b8c1e0d4a4c5e9b7a2e6f1d0c9a8b",
                "{3f2b8c1e-0d4a-4c5e-9b7a-2e6f1d0c9a8b}", "abc", "3f2b8c1e-0d4a-4c5e-9b7a-2e6f1d0c9a8b\n"):
        with pytest.raises(rules.InputRefused, match="^--checkin-id: expected a UUID"):
            rules.checkin_id(bad, "--checkin-id")
    assert rules.checkin_id(rules.new_checkin_id()) is not None


# --- entry points ---------------------------------------------------------------

def journey() -> j.Journey:
    jr = j.Journey(j.Settings(flow=j.FLOW_STEP_BY_STEP), today=lambda: TODAY)
    jr.handle(j.OpenKeypad())
    return jr


@pytest.mark.parametrize("typed", [ARABIC_INDIC, FULL_WIDTH, "001093012345\n", " 001093012345"])
def test_keypad_refuses_other_digit_forms(typed):
    jr = journey()
    assert jr.handle(j.IdTyped(typed)) == []
    assert jr.step is j.Step.KEYPAD and jr.notice == "error.invalid_id" and jr.identity is None


def test_journey_checkin_id_is_a_canonical_uuid():
    from kiosk.domain import ClinicRoom, Department, Patient
    from kiosk.ports import PatientLookup

    jr = journey()
    jr.handle(j.DepartmentsLoaded((Department("NOI", "Nội", (ClinicRoom("P1", "P1"),)),), None))
    jr.handle(j.IdTyped("001093012345"))
    look = jr.handle(j.Confirm())[0]
    jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")], {})))
    jr.handle(j.ChooseDepartment("NOI"))
    effect = jr.handle(j.DeclarePriority(None))[0]
    assert isinstance(effect, j.CheckIn)
    assert rules.checkin_id(effect.request.checkin_id) == effect.request.checkin_id


def qr(citizen_id="001093012345", name="NGUYỄN VĂN AN", dob="15031993", address="Hà Nội") -> str:
    return f"{citizen_id}||{name}|{dob}|Nam|{address}|01052021"


@pytest.mark.parametrize("text", [qr(ARABIC_INDIC), qr(FULL_WIDTH), qr(dob="01012099"), qr(name="A" * 5000),
                                  qr(name="AN 2"), "x" * 10_000])
def test_cccd_qr_refuses_bad_fields(text):
    with pytest.raises(QrPayloadError):
        parse_qr(text, today=TODAY)


def test_cccd_qr_refuses_invisible_characters_in_names_and_addresses():
    for text in (qr(name="NGUYỄN\u202e VĂN AN"), qr(name="NGUYỄN VĂN\x1b[1m AN"), qr(address="Số 1,\x07 Hà Nội"),
                 qr(address="Hà\u200b Nội")):
        with pytest.raises(QrPayloadError) as err:
            parse_qr(text, today=TODAY)
        assert err.value.patient_message_key == "error.qr_invisible"
    parsed = parse_qr(qr(address="Số 1,   Hà Nội"), today=TODAY)
    assert parsed.full_name == "NGUYỄN VĂN AN" and parsed.address == "Số 1, Hà Nội"
    with pytest.raises(InvalidCccdQr, match="address"):
        parse_qr(qr(address="x" * 400), today=TODAY)


def test_appointment_codes_are_ascii():
    assert parse_qr("APPT:LH2611250345").code == "LH2611250345"
    with pytest.raises(UnsupportedQr):
        parse_qr("LH٢٦١١٢٥٠٣٤٥", r"^(?P<code>LH\w+)$")


def test_admin_test_read_refuses_full_width_can():
    from tests.helpers import make_config
    from ui.admin.actions import AdminActions

    out = AdminActions(None, make_config(card_reader={"driver": "simulator"}), None, None).test_card_read("１２３４５６")
    assert not out.ok and out.text.startswith("CAN: expected the 6-digit card access number")


def test_chip_identity_goes_through_the_rules():
    from dataclasses import replace

    from devices.card.identity import identity_from_chip
    from devices.card.simulator import SimulatedCardReader
    from devices.cccd.errors import CardParseError
    from kiosk.domain import AccessKey

    reader = SimulatedCardReader(read_time_s=0.0)
    reader.insert_card("an")
    try:
        data = reader.read_chip(AccessKey.from_citizen_id("001093012345"), with_photo=False, timeout=5)
    finally:
        reader.stop()
    record = data.record
    spaced = replace(record, fields={**record.fields, 2: ["NGUYỄN   VĂN AN"], 9: ["Số 1,  Hà Nội"]})
    identity = identity_from_chip(replace(data, record=spaced), with_photo=False)
    assert identity.full_name == "NGUYỄN VĂN AN" and identity.address == "Số 1, Hà Nội"
    for number, value in ((2, "NGUYỄN\u202e VĂN AN"), (2, "NGUYỄN VĂN\x1b[31m AN"), (9, "Số 1,\x07 Hà Nội"),
                          (9, "Hà\u200b Nội"), (6, "Kinh\u2066")):
        dirty = replace(record, fields={**record.fields, number: [value]})
        with pytest.raises(CardParseError, match="without control") as err:
            identity_from_chip(replace(data, record=dirty), with_photo=False)
        assert err.value.patient_message_key == "error.card.invisible"
    for number, value, field in ((1, ARABIC_INDIC, "chip ID number"), (1, "001093012345\n", "chip ID number"),
                                 (3, "01/01/2099", "chip date of birth"), (2, "A" * 5000, "chip name")):
        bad = replace(record, fields={**record.fields, number: [value]})
        with pytest.raises(CardParseError, match=field):
            identity_from_chip(replace(data, record=bad), with_photo=False)


@pytest.mark.parametrize("typed", ["１２３４５６７", "١٢٣٤٥٦٧", "1234567\n", " 1234567"])
def test_keypad_patient_code_refuses_other_digit_forms(typed):
    jr = j.Journey(j.Settings(flow=j.FLOW_STEP_BY_STEP), today=lambda: TODAY)
    jr.handle(j.OpenKeypad(j.PATIENT_CODE))
    assert jr.handle(j.PatientCodeTyped(typed)) == []
    assert jr.notice == "error.invalid_patient_code"
    assert jr.handle(j.PatientCodeTyped("1234567"))  # ASCII digits: looked up


def test_patient_codes_from_scans_are_ascii():
    from kiosk.identity.patient_code import PatientCodeRules

    rules_ = PatientCodeRules(r"^(?P<code>BN-\w+)$")  # a lax pattern a hospital might configure
    assert rules_.from_scan("BN-0012345") == "BN-0012345"
    assert rules_.from_scan("BN-٠٠١٢٣٤٥") is None
