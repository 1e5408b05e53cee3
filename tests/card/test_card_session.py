"""ChipSession against the virtual card's OS in-process (no pcscd): the
protocol edge cases that are awkward to provoke through a reader — length
fallbacks, plain error answers, a 0-byte answer, deadlines."""
from __future__ import annotations

import datetime as dt
import importlib
import sys

import pytest

from devices.cccd import lds, sample_card
from devices.cccd.chip_read import read_chip
from devices.cccd.errors import CardRemoved, CardTimeout, NotAnEmrtd, WrongAccessKey
from devices.cccd.session import ChipSession, Key, atr_supports_extended
from kiosk.demo_data import demo_person
from tests.card.virtual_reader import CARD_PROGRAM, VSMARTCARD_PATH, card_config


@pytest.fixture(scope="module")
def card_module():
    for path in (VSMARTCARD_PATH, str(CARD_PROGRAM.parent)):
        if path not in sys.path:
            sys.path.insert(0, path)
    return importlib.import_module("card_os")


@pytest.fixture(scope="module")
def pki():
    return sample_card.make_pki()


def make_card(card_module, pki, person="an", files=None, **options):
    p = demo_person(person)
    content = sample_card.sign_files(sample_card.person_files(p), pki)
    content.update(files or {})
    conf = card_config(p)
    return card_module.CccdOS(content, conf["can"], conf["mrz_info"], **options), content, p


def key_for(person, can=True, bac=False) -> Key:
    birth = dt.date.fromisoformat(person["birth_date"])
    expiry = sample_card.expiry_for(birth, dt.date.fromisoformat(person["issue_date"])) or dt.date(2099, 12, 31)
    return Key(can=person["citizen_id"][-6:] if can else None,
               document_number=person["citizen_id"][-9:] if bac else None,
               birth=birth if bac else None, expiry=expiry if bac else None)


def test_atr_card_capabilities(card_module, pki):
    assert atr_supports_extended(make_card(card_module, pki)[0].getATR())
    assert not atr_supports_extended(make_card(card_module, pki, extended=False)[0].getATR())
    assert not atr_supports_extended(bytes.fromhex("3B8F8001804F0CA000000306030001000000006A"))


def test_extended_refused_falls_back_to_short_apdus(card_module, pki):
    os_, files, person = make_card(card_module, pki, extended=False)
    session = ChipSession(os_.execute, extended=True)
    data = read_chip(session, key_for(person), trust=[pki.csca_cert])
    assert data.passive_auth.status == "verified" and not session.extended
    assert data.raw["SOD"] == files["SOD"]


def test_card_buffer_smaller_than_the_request(card_module, pki):
    os_, files, person = make_card(card_module, pki, max_response=512)
    session = ChipSession(os_.execute, extended=True, extended_block=4096)
    data = read_chip(session, key_for(person), trust=[pki.csca_cert], with_photo=True)
    assert data.raw["DG2"] == files["DG2"] and data.passive_auth.verified


def test_bac_session_uses_3des_blocks(card_module, pki):
    os_, files, person = make_card(card_module, pki, extended=False, allow_pace=False)
    session = ChipSession(os_.execute)
    data = read_chip(session, key_for(person, can=False, bac=True), trust=[])
    assert data.protocol == "BAC" and session.sm.cipher == "3DES" and session.block_size() == 231
    assert data.record.full_name == "NGUYỄN VĂN AN" and data.passive_auth.status == "not_verifiable"


@pytest.mark.parametrize("pace", [True, False])
def test_wrong_mrz_key(card_module, pki, pace):
    os_, _, person = make_card(card_module, pki, allow_pace=pace)
    wrong = Key(document_number=person["citizen_id"][-9:], birth=dt.date(1990, 1, 1), expiry=dt.date(2030, 1, 1))
    with pytest.raises(WrongAccessKey):
        ChipSession(os_.execute).open(wrong)


def test_wrong_can_with_right_mrz_falls_back_to_bac(card_module, pki):
    os_, _, person = make_card(card_module, pki)
    key = key_for(person, can=True, bac=True)
    key = Key(can="000000", document_number=key.document_number, birth=key.birth, expiry=key.expiry)
    session = ChipSession(os_.execute)
    assert session.open(key) == "BAC"
    assert session.read_file("DG1").startswith(b"\x61")


def test_unsupported_pace_in_card_access_uses_bac(card_module, pki):
    dh_only = lds.encode_card_access("0.4.0.127.0.7.2.2.4.1.2", 0)  # PACE-DH-GM: not implemented here
    os_, _, person = make_card(card_module, pki, files={"CardAccess": dh_only})
    session = ChipSession(os_.execute)
    assert session.open(key_for(person, can=True, bac=True)) == "BAC"


def test_plain_card_without_emrtd(card_module, pki):
    os_, _, person = make_card(card_module, pki, emrtd=False)
    with pytest.raises(NotAnEmrtd):
        ChipSession(os_.execute).open(key_for(person, can=False, bac=True))


def test_zero_byte_answer_means_removed(card_module, pki):
    os_, _, person = make_card(card_module, pki)
    answers = iter(range(100))

    def flaky(apdu: bytes) -> bytes:
        return b"" if next(answers) == 8 else os_.execute(apdu)

    with pytest.raises(CardRemoved):
        read_chip(ChipSession(flaky), key_for(person), trust=[])


def test_deadline_between_apdus(card_module, pki):
    os_, _, person = make_card(card_module, pki)
    now = [0.0]

    def slow(apdu: bytes) -> bytes:
        now[0] += 1.0
        return os_.execute(apdu)

    with pytest.raises(CardTimeout):
        read_chip(ChipSession(slow, deadline=5.0, clock=lambda: now[0]), key_for(person), trust=[])


def test_reader_without_extended_apdus_falls_back(card_module, pki):
    """Some PC/SC readers fail the transmit itself for an extended APDU."""
    from devices.cccd.errors import CardError

    os_, files, person = make_card(card_module, pki)

    def short_only_reader(apdu: bytes) -> bytes:
        if len(apdu) > 5 and apdu[4] == 0:
            raise CardError("transmit: PC/SC 0x80100016 (transaction failed)")
        return os_.execute(apdu)

    session = ChipSession(short_only_reader, extended=True)
    data = read_chip(session, key_for(person), trust=[pki.csca_cert])
    assert data.passive_auth.verified and session.extended_refused and not session.extended


def test_garbage_at_any_step_of_a_real_conversation(card_module, pki):
    """A real card conversation that turns into garbage at step k (a flaky
    contactless link, a hostile card) ends in a typed CardError at every k."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from devices.cccd.errors import CardError

    os_, _, person = make_card(card_module, pki)

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                     HealthCheck.function_scoped_fixture])
    @given(st.integers(0, 12), st.binary(max_size=60), st.booleans())
    def run(k, garbage, bac):
        os_.reset()
        count = iter(range(1000))

        def transmit(apdu: bytes) -> bytes:
            return garbage if next(count) == k else os_.execute(apdu)

        try:
            read_chip(ChipSession(transmit), key_for(person, can=not bac, bac=bac), trust=[])
        except CardError:
            pass

    run()
