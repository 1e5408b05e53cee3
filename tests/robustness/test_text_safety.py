"""Text that only looks right (issue 25, item 6): every path that stores or
prints text gives NFC without control or format characters — patient input
(QR, keypad, chip) is refused, text from the HIS or the BHXH gateway is cleaned
with an alarm to IT, and the CLI escapes what it prints."""
from __future__ import annotations

import json
import logging
import unicodedata
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.cli import json_text, shown
from bhxh_gateway.reply import Garbled, interpret
from devices.camera.decoders import bytes_to_text
from fhir_his.mapping import departments_from_fhir, patient_from_fhir
from kiosk.config.schema import HisSection
from kiosk.identity import input_rules as rules
from kiosk.identity import text_safety
from kiosk.identity.qr_payload import (
    CccdQr,
    InvalidCccdQr,
    QrInvisible,
    QrNotText,
    QrPayloadError,
    describe,
    parse_qr,
)
from kiosk.journey import machine as j
from kiosk.operations import metrics
from kiosk.texts.messages import t

TODAY = date(2025, 11, 26)
NAME = "NGUYỄN VĂN AN"
# Cc and Cf characters the brief names, and a few more.
HIDDEN = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
          "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff", "\u00ad", "\u061c", "\x00", "\x07", "\x1b", "\x7f",
          "\x85", "\x9b", "\t", "\n", "\r"]
ARABIC_INDIC_DOB = "".join(chr(0x0660 + int(d)) for d in "15031993")
FULL_WIDTH_DOB = "".join(chr(0xFF10 + int(d)) for d in "15031993")
DEVANAGARI_DOB = "".join(chr(0x0966 + int(d)) for d in "15031993")

unicode_text = st.text(alphabet=st.characters(codec=None), max_size=60)
nasty_text = st.lists(st.one_of(st.sampled_from(HIDDEN), st.text(alphabet="NGUYỄNVănđ ,.-", min_size=1, max_size=6),
                                st.text(alphabet=st.characters(codec=None), max_size=3)), max_size=12).map("".join)
texts = st.one_of(unicode_text, nasty_text, nasty_text.map(lambda s: unicodedata.normalize("NFD", s)))


def qr(citizen_id="001093012345", name=NAME, dob="15031993", address="Hà Nội", issued="01052021") -> str:
    return f"{citizen_id}||{name}|{dob}|Nam|{address}|{issued}"


def clean(value: str) -> bool:
    return not text_safety.has_unsafe(value) and unicodedata.is_normalized("NFC", value)


def stored_texts(parsed: CccdQr) -> list[str]:
    return [parsed.citizen_id, parsed.full_name, parsed.address or "", parsed.old_id or "",
            *parsed.extra.keys(), *parsed.extra.values()]


# --- 1. NFC ----------------------------------------------------------------------

def test_decomposed_vietnamese_becomes_nfc_on_every_entry_point():
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert nfd != "Nguyễn Văn An"
    assert parse_qr(qr(name=unicodedata.normalize("NFD", NAME)), today=TODAY).full_name == NAME
    assert parse_qr(qr(address=unicodedata.normalize("NFD", "Hà Nội")), today=TODAY).address == "Hà Nội"
    assert rules.name(nfd, "--name") == "Nguyễn Văn An"
    his = HisSection()
    patient = patient_from_fhir({"id": "p1", "name": [{"text": nfd}]}, his)
    assert patient.full_name == "Nguyễn Văn An"


# --- 2. not UTF-8 ----------------------------------------------------------------

def test_a_qr_with_one_invalid_utf8_byte_is_refused_never_read_as_latin1():
    raw = qr().encode("utf-8")
    raw = raw.replace("Ễ".encode(), b"\xc3")  # one byte of a two-byte sequence left
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    for payload in (raw, bytes_to_text(raw), "001093012345||NGUY\udcc3N VĂN AN|15031993|Nam|Hà Nội|01052021"):
        with pytest.raises(QrNotText) as err:
            parse_qr(payload, today=TODAY)
        assert err.value.patient_message_key == "error.qr_not_text"
    assert "quét lại" in t("error.qr_not_text", "vi") and "scan it again" in t("error.qr_not_text", "en")
    assert parse_qr(qr().encode("utf-8"), today=TODAY).full_name == NAME  # valid UTF-8 bytes are fine


def test_the_journey_asks_to_scan_again_for_a_qr_that_is_not_utf8():
    jr = j.Journey(j.Settings(flow=j.FLOW_STEP_BY_STEP), today=lambda: TODAY)
    assert not jr.handle(j.QrScanned(bytes_to_text(b"001093012345||NGUY\xc3N|15031993|Nam|x|01052021")))
    assert jr.notice == "error.qr_not_text"


# --- 3. digits outside ASCII -------------------------------------------------------

@pytest.mark.parametrize("dob", [ARABIC_INDIC_DOB, FULL_WIDTH_DOB, DEVANAGARI_DOB, "١٥/٠٣/١٩٩٣"])
def test_a_birth_date_in_other_digits_is_refused_never_replaced_by_the_issue_date(dob):
    for text in (qr(dob=dob), f"001093012345|{NAME}|{dob}|Nam|Hà Nội|01/05/2021",
                 f"Nam|{dob}|{NAME}|001093012345|01052021"):
        with pytest.raises(InvalidCccdQr, match="ASCII"):
            parse_qr(text, today=TODAY)


def test_an_unreadable_date_in_the_tolerant_layout_is_refused():
    with pytest.raises(InvalidCccdQr, match="unknown form"):
        parse_qr(f"Nam|1993-03-15|{NAME}|001093012345|01052021", today=TODAY)


def test_addresses_and_codes_refuse_other_digits():
    with pytest.raises(rules.InputRefused):
        rules.address("Số ١, Hà Nội", "--address")
    with pytest.raises(QrPayloadError):
        parse_qr(qr(address="Số ١, Hà Nội"), today=TODAY)
    for code in ("BN-٠٠١٢", "BN-００１２"):
        with pytest.raises(rules.InputRefused):
            rules.patient_code(code)


def test_a_chip_birth_date_in_other_digits_is_refused(simulated_chip):
    from devices.card.identity import identity_from_chip
    from devices.cccd.errors import CardParseError

    data = simulated_chip
    bad = replace(data.record, fields={**data.record.fields, 3: ["١٥/٠٣/١٩٩٣"]})
    with pytest.raises(CardParseError, match="date of birth"):
        identity_from_chip(replace(data, record=bad), with_photo=False)
    no_expiry = replace(data.record, fields={**data.record.fields, 12: ["Không thời hạn"]})
    assert identity_from_chip(replace(data, record=no_expiry), with_photo=False).citizen_id


@pytest.fixture(scope="module")
def simulated_chip():
    from devices.card.simulator import SimulatedCardReader
    from kiosk.domain import AccessKey

    reader = SimulatedCardReader(read_time_s=0.0)
    reader.insert_card("an")
    try:
        return reader.read_chip(AccessKey.from_citizen_id("001093012345"), with_photo=False, timeout=5)
    finally:
        reader.stop()


def test_the_chip_text_is_nfc_without_its_bom(simulated_chip):
    from devices.card.identity import identity_from_chip
    from devices.cccd.dg13 import encode_dg13, parse_dg13

    record = parse_dg13(encode_dg13({1: "001093012345", 2: "\ufeff" + unicodedata.normalize("NFD", NAME)}))
    assert record.full_name == NAME
    identity = identity_from_chip(replace(simulated_chip, record=replace(
        simulated_chip.record, fields={**simulated_chip.record.fields, 2: [record.full_name]})), with_photo=False)
    assert identity.full_name == NAME


# --- 4. BOM and line ends ------------------------------------------------------------

@pytest.mark.parametrize("end", ["\r", "\n", "\r\n", "\t", "\r\n\t", "\n\n"])
def test_bom_and_scanner_line_ends_are_stripped(end):
    parsed = parse_qr("\ufeff" + qr() + end, today=TODAY)
    assert parsed.full_name == NAME and parsed.issue_date == date(2021, 5, 1)
    assert parse_qr("APPT:LH2611250345" + end).code == "LH2611250345"


def test_a_bom_inside_the_text_is_refused():
    with pytest.raises(QrInvisible):
        parse_qr(qr(name="NGUYỄN\ufeff VĂN AN"), today=TODAY)


# --- 5. refused from the patient, hidden (with an alarm) from the HIS and the gateway ---

@pytest.mark.parametrize("ch", HIDDEN)
def test_hidden_characters_in_patient_input_are_refused_with_a_sentence(ch):
    with pytest.raises(QrInvisible) as err:
        parse_qr(qr(name=f"NGUYỄN{ch}VĂN AN"), today=TODAY)
    assert err.value.patient_message_key == "error.qr_invisible"
    with pytest.raises(rules.InvisibleCharacters) as typed:
        rules.name(f"Nguyễn{ch}Văn An", "--name")
    assert typed.value.patient_message_key == "error.input.invisible"
    for lang in ("vi", "en"):
        for key in ("error.qr_invisible", "error.input.invisible", "error.card.invisible"):
            assert t(key, lang) and "{" not in t(key, lang)


def test_a_his_patient_name_with_a_bidi_override_is_shown_without_it_and_alarms(caplog):
    before = metrics.HIS_TEXT_HIDDEN.value(resource="Patient", field="name") or 0
    with caplog.at_level(logging.WARNING, logger="kiosk.identity.text_safety"):
        patient = patient_from_fhir({"id": "p1", "name": [{"text": "Nguyễn \u202eVăn An"}]}, HisSection())
    assert patient.full_name == "Nguyễn Văn An"
    assert metrics.HIS_TEXT_HIDDEN.value(resource="Patient", field="name") == before + 1
    (record,) = [r for r in caplog.records if getattr(r, "event", None) == "text.hidden"]
    assert (record.source, record.resource, record.field) == ("his", "Patient", "name")
    logged = record.getMessage() + repr(record.__dict__)
    assert "Nguyễn" not in logged and "Văn" not in logged


def test_his_department_and_room_names_are_cleaned():
    his = HisSection()
    before = metrics.HIS_TEXT_HIDDEN.value(resource="Location", field="name") or 0
    services = [{"id": "s1", "name": "Khoa\u200b Nội", "identifier": [{"system": his.department_system,
                                                                       "value": "NOI"}],
                 "location": [{"reference": "Location/l1"}], "extraDetails": "7:00\x1b[2J–16:30"}]
    locations = [{"id": "l1", "name": "Phòng \u2066101\u2069", "description": "Tầng 2\nDãy B"}]
    (dept,) = departments_from_fhir(services, locations, his)
    assert dept.name == "Khoa Nội" and dept.opening_hours == "7:00[2J–16:30"
    assert dept.rooms[0].name == "Phòng 101" and dept.rooms[0].where == "Tầng 2 Dãy B"
    assert metrics.HIS_TEXT_HIDDEN.value(resource="Location", field="name") == before + 1


def gateway_reply(**fields) -> dict:
    return {"maKetQua": "000", "maThe": "DN4010123456789", "maDKBD": "27001", "gtTheTu": "01/01/2025",
            "gtTheDen": "31/12/2026", **fields}


def test_gateway_fields_lose_hidden_characters_with_an_alarm():
    now = datetime(2025, 11, 26, 8, tzinfo=timezone.utc)
    before = metrics.INSURANCE_TEXT_HIDDEN.value(field="maThe") or 0
    result = interpret(gateway_reply(maThe="DN40101234\u200b56789", gtTheDen="31/12/2026\u202c"),
                       queried_card="DN4010123456789", today=now.date(), facility_code="27001", checked_at=now)
    assert result.card_number == "DN4010123456789" and result.valid_to == date(2026, 12, 31)
    assert metrics.INSURANCE_TEXT_HIDDEN.value(field="maThe") == before + 1
    for bad in ({"maDKBD": "２７００１"}, {"gtTheDen": "٣١/١٢/٢٠٢٦"}, {"maKetQua": "０００"}):
        with pytest.raises(Garbled):
            interpret(gateway_reply(**bad), queried_card="DN4010123456789", today=now.date(),
                      facility_code="27001", checked_at=now)


# --- 6. the CLI's output -------------------------------------------------------------

def test_the_cli_escapes_control_and_direction_characters():
    assert shown("AN\x1b[31m\u202e\r") == "AN\\x1b[31m\\u202e\\x0d"
    out = json_text({"name": "AN\u202e\x7f\x85\u200b", "plane": "\U000e0001"})
    assert "\u202e" not in out and "\x7f" not in out and "\\u202e" in out
    assert json.loads(out) == {"name": "AN\u202e\x7f\x85\u200b", "plane": "\U000e0001"}


def test_scan_output_of_a_refused_payload_is_escaped(capsys):
    from app.cli import print_json
    from app.cli.scan import interpret as scan_interpret

    entry = scan_interpret(qr(name="NGUYỄN\u202e VĂN AN"), r"^APPT:(?P<code>LH\d+)$")
    assert entry["message_key"] == "error.qr_invisible"
    print_json(entry)
    printed = capsys.readouterr().out
    assert not text_safety.has_unsafe(printed.replace("\n", ""))


# --- 7. properties --------------------------------------------------------------------

@given(name=texts, address=texts)
@settings(max_examples=200, deadline=None)
@example(name="NGUYỄN\u202e VĂN AN", address="Hà Nội")
@example(name=unicodedata.normalize("NFD", NAME), address="Hà\u200b Nội")
def test_random_text_in_a_cccd_qr_is_refused_or_stored_clean(name, address):
    try:
        parsed = parse_qr(qr(name=name, address=address), today=TODAY)
    except QrPayloadError:
        return
    for value in stored_texts(parsed):
        assert clean(value)
    assert not text_safety.has_unsafe(json_text(describe(parsed)).replace("\n", ""))


@given(value=texts)
@settings(max_examples=200, deadline=None)
def test_random_typed_or_card_text_is_refused_or_clean(value):
    for fn in (rules.name, rules.address):
        for typed in (True, False):
            try:
                out = fn(value, "FIELD", typed=typed)
            except rules.InputRefused:
                continue
            assert clean(out)
    try:
        out = rules.card_text(value)
    except rules.InvisibleCharacters:
        return
    assert out is None or clean(out)


@given(value=texts)
@settings(max_examples=200, deadline=None)
def test_random_his_text_is_always_clean(value):
    out = text_safety.from_system(value, "his", "Patient", "name")
    assert out is None or clean(out)
    patient = patient_from_fhir({"id": "p1", "name": [{"text": value}]}, HisSection())
    assert patient.full_name is None or clean(patient.full_name)


@given(value=texts)
@settings(max_examples=200, deadline=None)
def test_random_text_never_reaches_the_terminal_raw(value):
    assert not text_safety.has_unsafe(shown(value))
    out = json_text({"v": value})
    assert not text_safety.has_unsafe(out.replace("\n", "")) and json.loads(out) == {"v": value}
