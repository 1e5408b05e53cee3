"""Property-based tests of the chip-file parsers: any malformed input gives a
typed ``CardParseError`` (never IndexError, UnicodeDecodeError, RecursionError…),
and well-formed input round-trips."""
from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from devices.cccd import lds, tlv
from devices.cccd.dg13 import encode_dg13, parse_dg13, parse_vn_date
from devices.cccd.errors import CardParseError
from devices.cccd.mrz import check_digit, parse_mrz, td1_for_cccd
from devices.cccd.sample_card import make_pki, person_files, sign_files
from devices.cccd.sod import load_trust_store, parse_sod, passive_authentication
from kiosk.demo_data import demo_person

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PARSERS = [tlv.parse_all, parse_dg13, parse_mrz_bytes := (lambda b: parse_mrz(b.decode("latin-1"))), parse_sod,
           lds.parse_com, lds.parse_dg1, lds.parse_dg2, lds.parse_card_access]


@pytest.fixture(scope="module")
def sample_files():
    return sign_files(person_files(demo_person("an"), photo=b"\xff\xd8\xff\xe0" + bytes(200)), make_pki())


def only_typed_errors(parser, data) -> None:
    try:
        parser(data)
    except CardParseError:
        pass


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_only_raise_parse_errors(data):
    for parser in PARSERS:
        only_typed_errors(parser, data)


@SETTINGS
@given(st.data())
def test_mutated_real_files_only_raise_parse_errors(sample_files, data):
    name = data.draw(st.sampled_from(["COM", "DG1", "DG2", "DG13", "SOD", "CardAccess"]))
    raw = bytearray(sample_files[name])
    action = data.draw(st.sampled_from(["flip", "truncate", "insert"]))
    pos = data.draw(st.integers(0, len(raw) - 1))
    if action == "flip":
        raw[pos] ^= data.draw(st.integers(1, 255))
    elif action == "truncate":
        del raw[pos:]
    else:
        raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
    parser = {"COM": lds.parse_com, "DG1": lds.parse_dg1, "DG2": lds.parse_dg2, "DG13": parse_dg13,
              "SOD": parse_sod, "CardAccess": lds.parse_card_access}[name]
    only_typed_errors(parser, bytes(raw))


@SETTINGS
@given(st.integers(1, 12).flatmap(lambda depth: st.just(depth)))
def test_deep_nesting_is_a_parse_error_not_a_recursion_error(depth):
    inner = tlv.encode(0x0C, b"x")
    for _ in range(depth * 100):
        inner = tlv.encode(0x30, inner)
    with pytest.raises(CardParseError):
        parse_dg13(tlv.encode(0x6D, inner))


texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40)


def as_read(value: str) -> str:
    """What DG13 gives back for a text: NFC, without a leading byte-order mark."""
    return unicodedata.normalize("NFC", value.removeprefix("\ufeff"))


@SETTINGS
@given(st.dictionaries(st.integers(1, 40).filter(lambda n: n not in (13, 14)), texts, min_size=1, max_size=12),
       st.one_of(st.none(), st.tuples(texts, texts)), st.one_of(st.none(), texts))
def test_dg13_round_trip_keyed_by_field_number(values, parents, spouse):
    fields = dict(values)
    if parents:
        fields[13] = list(parents)
    if spouse:
        fields[14] = [spouse]
    record = parse_dg13(encode_dg13(fields))
    for number, value in values.items():
        assert record.text(number) == as_read(value)
    assert record.father_name == ((as_read(parents[0]) or None) if parents else None)
    assert record.mother_name == ((as_read(parents[1]) or None) if parents else None)
    assert record.spouse_name == (as_read(spouse or "") or None)


def test_dg13_tolerates_missing_unknown_and_printable_fields():
    entry = lambda n, tag, raw: tlv.encode(0x30, tlv.encode(0x02, bytes([n])) + tlv.encode(tag, raw))  # noqa: E731
    entries = entry(2, 0x0C, "NGUYỄN VĂN AN".encode()) + entry(1, 0x13, b"001093012345") + entry(99, 0x0C, b"new")
    body = tlv.encode(0x02, b"\x01") + tlv.encode(0x06, b"\x60\x86\x48") + tlv.encode(0x31, entries)
    record = parse_dg13(tlv.encode(0x6D, tlv.encode(0x30, body)))
    assert record.citizen_id == "001093012345" and record.full_name == "NGUYỄN VĂN AN"
    assert record.birth_date is None and record.father_name is None and record.spouse_name is None
    assert record.as_json()["field_99"] == "new" and record.version == 1


def test_dg13_no_expiry_text():
    record = parse_dg13(encode_dg13({1: "001093012345", 12: "Không thời hạn"}))
    assert record.expiry_date is None and record.text(12) == "Không thời hạn"
    assert parse_vn_date("31/02/2020") is None and parse_vn_date("05/01/1993") == dt.date(1993, 1, 5)


mrz_chars = st.text(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"), min_size=1, max_size=20)


@SETTINGS
@given(st.dates(dt.date(1930, 1, 1), dt.date(2024, 12, 31)), st.dates(dt.date(2025, 1, 1), dt.date(2070, 12, 31)),
       st.from_regex(r"[0-9]{12}", fullmatch=True), st.sampled_from("MF"))
def test_td1_round_trip_and_any_changed_digit_fails(birth, expiry, cid, sex):
    text = td1_for_cccd(cid, birth, sex, expiry, "NGUYEN", "VAN AN")
    mrz = parse_mrz(text)
    assert mrz.format == "TD1" and mrz.document_number == cid[-9:] and mrz.citizen_id == cid
    assert mrz.birth_date == birth and mrz.expiry_date == expiry and mrz.sex == sex
    flat = text.replace("\n", "")
    i = flat.index(cid[-9:]) + 2  # a digit of the document number
    changed = flat[:i] + str((int(flat[i]) + 1) % 10) + flat[i + 1:]
    with pytest.raises(CardParseError):
        parse_mrz(changed)


def test_td3_icao_specimen():
    mrz = parse_mrz("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10")
    assert mrz.format == "TD3" and mrz.document_number == "L898902C3" and mrz.primary_name == "ERIKSSON"
    assert mrz.secondary_name == "ANNA MARIA" and mrz.birth_date == dt.date(1974, 8, 12)
    assert check_digit("ZE184226B<<<<<") == "1"


@SETTINGS
@given(mrz_chars)
def test_check_digit_is_a_digit(text):
    assert check_digit(text) in "0123456789"


@SETTINGS
@given(st.data())
def test_sod_bit_flips_never_verify(sample_files, data):
    raw = bytearray(sample_files["SOD"])
    pos = data.draw(st.integers(4, len(raw) - 1))
    raw[pos] ^= data.draw(st.integers(1, 255))
    try:
        sod = parse_sod(bytes(raw))
    except CardParseError:
        return
    groups = {1: sample_files["DG1"], 13: sample_files["DG13"]}
    result = passive_authentication(sod, groups, [])
    # with no anchor at best "not verifiable"; a flipped bit may only make it worse
    assert result.status in ("not_verifiable", "failed")
    assume(result.status == "failed")
    assert result.reason


@pytest.mark.parametrize("kind,hash_name,pss", [("rsa", "sha256", False), ("rsa", "sha256", True),
                                                ("brainpool", "sha384", False), ("ec", "sha1", False)])
def test_passive_authentication_with_the_signature_kinds_states_use(kind, hash_name, pss):
    from devices.cccd.sample_card import build_sod

    pki = make_pki("Signer Kinds CSCA", kind=kind)
    files = person_files(demo_person("minh"), photo=b"\xff\xd8\xff\xe0" + bytes(64))
    groups = {1: files["DG1"], 13: files["DG13"]}
    sod = parse_sod(build_sod(groups, pki, hash_name, pss))
    assert sod.hash_algorithm == hash_name
    result = passive_authentication(sod, groups, [pki.csca_cert])
    assert (result.status, result.reason) == ("verified", "")
    other = make_pki("Signer Kinds CSCA", kind=kind)  # same name, other key
    assert passive_authentication(sod, groups, [other.csca_cert]).status == "failed"


def test_dg2_jpeg2000_face():
    from devices.cccd.sample_card import sample_photo

    jp2 = sample_photo("x", size=(60, 80), jpeg2000=True)
    face = lds.parse_dg2(lds.encode_dg2(jp2))
    assert face.mime == "image/jp2" and face.data == jp2


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=80), min_size=1, max_size=12), st.booleans())
def test_any_card_answers_give_only_typed_card_errors(answers, with_bac):
    """Whatever a broken or hostile card answers, the session raises a CardError
    subclass (the UI turns it into a patient message), never another exception."""
    from devices.cccd.errors import CardError
    from devices.cccd.session import ChipSession, Key

    queue = list(answers)

    def transmit(_apdu: bytes) -> bytes:
        return queue.pop(0) if queue else b"\x6a\x82"

    key = Key(can="123456", document_number="093012345", birth=dt.date(1993, 1, 5),
              expiry=dt.date(2033, 1, 5)) if with_bac else Key(can="123456")
    try:
        ChipSession(transmit).open(key)
    except CardError:
        pass


@SETTINGS
@given(st.binary(max_size=120))
def test_secure_messaging_unwrap_of_garbage(raw):
    from devices.cccd.errors import CardError
    from devices.cccd.sm import SecureMessaging

    for cipher, size in (("AES", 16), ("3DES", 8)):
        sm = SecureMessaging(cipher, bytes(16), bytes(range(16)), bytes(size))
        try:
            sm.unwrap(raw)
        except CardError:
            pass


def test_signer_certificate_with_an_unknown_x509_version_fails_cleanly(sample_files, tmp_path):
    """A flipped bit in the certificate's version field ("v4") is a failed check, not a traceback."""
    sod = parse_sod(sample_files["SOD"])
    cert = bytearray(sod.signer_certificate)
    version = bytes.fromhex("a003020102")  # [0] EXPLICIT INTEGER 2 = X.509 v3
    at = cert.index(version)
    cert[at + 4] = 3
    groups = {1: sample_files["DG1"], 13: sample_files["DG13"]}
    result = passive_authentication(dataclasses.replace(sod, signer_certificate=bytes(cert)), groups, [])
    assert result.status == "failed" and "not valid DER" in result.reason
    # the same bytes in the trust-store folder are skipped like any other non-certificate file
    (tmp_path / "bad.der").write_bytes(bytes(cert))
    assert load_trust_store(tmp_path) == []
