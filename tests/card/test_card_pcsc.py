"""The real PC/SC path end to end: pyscard → pcscd → vpcd → the virtual CCCD
(PACE, BAC, secure messaging, LDS files, a SOD signed by a CSCA made here).
pcscd and the card are started by the tests (tests/card/virtual_reader.py)."""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
import threading

import pytest

from devices.card.pcsc import PcscCardReader
from devices.cccd import sample_card
from devices.cccd.errors import CardRemoved, CardTimeout, NoCard, NotAnEmrtd, ReaderGone, WrongAccessKey
from kiosk.domain import AccessKey, Assurance, IdentitySource
from kiosk.ports import CARD_INSERTED, CARD_REMOVED, DEVICE_MISSING, DEVICE_READY
from kiosk.texts.messages import t
from tests.card.virtual_reader import ROOT, VPCD_READER, running_virtual_card

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pki():
    return sample_card.make_pki("Test CSCA")


def make_reader(trust_store="", **kw) -> PcscCardReader:
    return PcscCardReader(VPCD_READER, timeout_s=kw.pop("timeout_s", 10.0), trust_store=str(trust_store),
                          poll_s=0.05, **kw)


def bac_key(person: dict, *, with_can: str | None = None) -> AccessKey:
    birth = dt.date.fromisoformat(person["birth_date"])
    expiry = sample_card.expiry_for(birth, dt.date.fromisoformat(person["issue_date"])) or dt.date(2099, 12, 31)
    return AccessKey(can=with_can, document_number=person["citizen_id"][-9:], birth_date=birth, expiry_date=expiry)


def test_good_read_with_pace_is_verified_and_minimal(pki, tmp_path):
    with running_virtual_card("an", tmp_path / "csca", pki=pki) as card:
        reader = make_reader(card.csca_dir)
        try:
            identity = reader.read_identity(AccessKey(can=card.can))
            chip = reader.last_chip
            stats = reader.last_stats
        finally:
            reader.stop()
    assert (chip.passive_auth.status, chip.passive_auth.reason) == ("verified", "")
    assert identity.source is IdentitySource.CHIP
    assert identity.assurance is Assurance.CHIP_VERIFIED
    assert identity.citizen_id == "001093012345"
    assert identity.full_name == "NGUYỄN VĂN AN"
    assert identity.sex == "male" and identity.birth_date == dt.date(1993, 1, 5)
    assert identity.address.startswith("Số 12 Ngõ 34 Phố Huế")
    assert identity.old_id == "012345678" and identity.expiry_date == dt.date(2033, 1, 5)
    assert identity.photo is None
    assert identity.extra["father_name"] == "NGUYỄN VĂN BÌNH"
    assert chip.protocol == "PACE" and chip.passive_auth.status == "verified"
    assert "DG2" not in chip.raw  # the photo stays off the critical path
    # CardAccess + MSE + 4 GA + SELECT, then one extended READ BINARY per file
    assert stats["apdus"] == 7 + 4
    assert stats["bytes_read"] == sum(len(card.files[n]) for n in ("COM", "DG1", "DG13", "SOD"))


def test_photo_only_when_asked_and_hash_checked(pki, tmp_path):
    with running_virtual_card("ngoc", tmp_path / "csca", pki=pki) as card:
        reader = make_reader(card.csca_dir)
        try:
            identity = reader.read_identity(AccessKey.from_citizen_id(card.citizen_id), with_photo=True)
            chip = reader.last_chip
        finally:
            reader.stop()
    assert identity.photo.startswith(b"\xff\xd8\xff") and len(identity.photo) > 5000
    assert identity.sex == "female" and identity.full_name == "TRẦN THỊ BÍCH NGỌC"
    assert chip.passive_auth.checked_groups == (1, 2, 13) and identity.assurance is Assurance.CHIP_VERIFIED


def test_photo_later_in_the_same_session(pki, tmp_path):
    with running_virtual_card("an", tmp_path / "csca", pki=pki) as card:
        reader = make_reader(card.csca_dir)
        try:
            identity = reader.read_identity(AccessKey(can=card.can))
            assert identity.photo is None
            before = reader.last_stats["apdus"]
            photo = reader.read_photo()
            chip = reader.last_chip
            with pytest.raises(NoCard):  # one photo per read: the session is closed now
                reader.read_photo()
        finally:
            reader.stop()
    assert photo == chip.photo.data and photo[:3] == b"\xff\xd8\xff"
    assert chip.passive_auth.status == "verified" and chip.passive_auth.checked_groups == (1, 2, 13)
    assert before == 11


def test_short_apdus_read_the_same_data_in_the_fewest_blocks(pki, tmp_path):
    with running_virtual_card("an", tmp_path / "csca", pki=pki, extended=False) as card:
        reader = make_reader(card.csca_dir)
        try:
            identity = reader.read_identity(AccessKey(can=card.can))
            stats = reader.last_stats
        finally:
            reader.stop()
    assert identity.assurance is Assurance.CHIP_VERIFIED
    minimum = 7 + sum(math.ceil(len(card.files[n]) / 223) for n in ("COM", "DG1", "DG13", "SOD"))
    assert stats["apdus"] == minimum


def test_bac_fallback_when_the_card_refuses_pace(pki, tmp_path):
    with running_virtual_card("hung", tmp_path / "csca", pki=pki, pace=False) as card:
        reader = make_reader(card.csca_dir)
        try:
            identity = reader.read_identity(bac_key(card.person, with_can=card.can))
            chip = reader.last_chip
        finally:
            reader.stop()
    assert chip.protocol == "BAC"
    assert identity.assurance is Assurance.CHIP_VERIFIED and identity.full_name == "LÊ VĂN HÙNG"


def test_mrz_key_uses_pace_with_the_mrz_password(pki, tmp_path):
    with running_virtual_card("nhung", tmp_path / "csca", pki=pki) as card:
        reader = make_reader(card.csca_dir)
        try:
            identity = reader.read_identity(bac_key(card.person))
            assert reader.last_chip.protocol == "PACE"
        finally:
            reader.stop()
    assert identity.full_name == "ĐẶNG THỊ HỒNG NHUNG" and identity.sex == "female"


def test_wrong_can_is_a_typed_error_with_a_patient_message(pki, tmp_path):
    with running_virtual_card("an", tmp_path / "csca", pki=pki) as card:
        reader = make_reader(card.csca_dir)
        try:
            wrong = f"{(int(card.can) + 1) % 1000000:06d}"
            with pytest.raises(WrongAccessKey) as err:
                reader.read_identity(AccessKey(can=wrong))
            # the same reader still works with the right key afterwards
            again = reader.read_identity(AccessKey(can=card.can))
            assert again.extra["passive_auth_reason"] == "" and again.assurance is Assurance.CHIP_VERIFIED
        finally:
            reader.stop()
    assert "wrong CAN" in str(err.value) and card.can not in str(err.value)
    assert t(err.value.patient_message_key, "vi").startswith("Số định danh không khớp")


def test_card_removed_mid_read_then_reinserted(pki, tmp_path):
    events: list[str] = []
    changed = threading.Condition()

    def on_event(event):
        with changed:
            events.append(event)
            changed.notify_all()

    def wait_for(event):
        with changed:
            assert changed.wait_for(lambda: event in events, timeout=10), events

    with running_virtual_card("an", tmp_path / "csca", pki=pki) as card:
        reader = make_reader(card.csca_dir)
        reader.start(on_event)
        try:
            wait_for(CARD_INSERTED)
            assert events[:2] == [DEVICE_READY, CARD_INSERTED]
            card.remove_after(9)  # lifted while reading (after PACE)
            with pytest.raises(CardRemoved) as err:
                reader.read_identity(AccessKey(can=card.can))
            assert not isinstance(err.value, ReaderGone)
            assert t(err.value.patient_message_key, "vi").startswith("Thẻ đã bị nhấc ra")
            card.wait_event("removed")
            wait_for(CARD_REMOVED)
            with pytest.raises(NoCard):
                reader.read_identity(AccessKey(can=card.can))
            events.clear()
            card.insert()
            wait_for(CARD_INSERTED)
            assert reader.read_identity(AccessKey(can=card.can)).full_name == "NGUYỄN VĂN AN"
        finally:
            reader.stop()


def test_tampered_dg13_fails_passive_authentication(pki, tmp_path):
    with running_virtual_card("an", tmp_path / "csca", pki=pki, tamper="DG13") as card:
        reader = make_reader(card.csca_dir)
        try:
            identity = reader.read_identity(AccessKey(can=card.can))
            chip = reader.last_chip
        finally:
            reader.stop()
    assert chip.passive_auth.status == "failed"
    assert chip.passive_auth.reason == "DG13 does not match its hash in EF.SOD"
    assert identity.assurance is Assurance.CHIP_UNVERIFIED
    assert identity.extra["passive_auth"] == "failed"


def test_unknown_trust_anchor_and_no_trust_anchor(pki, tmp_path):
    other_dir, impostor_dir = tmp_path / "other", tmp_path / "impostor"
    sample_card.make_pki("Some Other CSCA").write_csca(other_dir)
    sample_card.make_pki("Test CSCA").write_csca(impostor_dir)  # same name, different key
    expected = {
        str(other_dir): ("failed", "no CSCA in the trust store issued this document signer"),
        str(impostor_dir): ("failed", "document signer certificate signature does not verify with the CSCA"),
        "": ("not_verifiable", "no CSCA trust anchor configured (card_reader.trust_store)"),
    }
    with running_virtual_card("an", tmp_path / "csca", pki=pki) as card:
        for store, (status, reason) in expected.items():
            reader = make_reader(store)
            try:
                identity = reader.read_identity(AccessKey(can=card.can))
                result = reader.last_chip.passive_auth
            finally:
                reader.stop()
            assert (result.status, result.reason) == (status, reason)
            assert identity.assurance is Assurance.CHIP_UNVERIFIED
            assert identity.extra["passive_auth"] == status


def test_slow_card_times_out(pki, tmp_path):
    with running_virtual_card("an", tmp_path / "csca", pki=pki, delay=0.4) as card:
        reader = make_reader(card.csca_dir, timeout_s=1.0)
        try:
            with pytest.raises(CardTimeout) as err:
                reader.read_identity(AccessKey(can=card.can))
        finally:
            reader.stop()
    assert t(err.value.patient_message_key, "en").startswith("Reading the card took too long")


def test_not_an_emrtd(pki, tmp_path):
    with running_virtual_card("an", tmp_path / "csca", pki=pki, emrtd=False) as card:
        reader = make_reader(card.csca_dir)
        try:
            with pytest.raises(NotAnEmrtd):
                reader.read_identity(AccessKey(can=card.can))
        finally:
            reader.stop()


def test_reader_gone_is_distinct_from_card_removed(pki, tmp_path):
    events = []
    with running_virtual_card("an", tmp_path / "csca", pki=pki) as card:
        reader = PcscCardReader("No Such Reader", timeout_s=5, poll_s=0.05)
        reader.start(events.append)
        try:
            with pytest.raises(ReaderGone) as err:
                reader.read_identity(AccessKey(can=card.can))
        finally:
            reader.stop()
    assert not isinstance(err.value, CardRemoved)
    assert events and events[0] == DEVICE_MISSING
    assert t(err.value.patient_message_key, "vi").startswith("Đầu đọc thẻ đang gặp sự cố")


def test_cli_read_card_json(pki, tmp_path):
    with running_virtual_card("an", tmp_path / "csca", pki=pki) as card:
        env = {**os.environ, "KIOSK_CONFIG": str(tmp_path / "none.toml")}
        (tmp_path / "none.toml").write_text("[card_reader]\ndriver = \"pcsc\"\n")
        out = subprocess.run([sys.executable, "-m", "app", "read-card", "--reader", VPCD_READER,
                              "--can", card.can, "--trust", str(card.csca_dir), "--json",
                              "--photo", str(tmp_path / "face.jpg")],
                             capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["passive_auth"] == "verified"
    assert result["dg13"]["full_name"] == "NGUYỄN VĂN AN"
    assert result["dg13"]["place_of_residence"] == card.person["address"]
    assert result["dg1"]["document_number"] == "093012345"
    assert result["apdus"] == 12 and result["bytes_read"] > 10000
    assert (tmp_path / "face.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
