"""The simulated reader (demo and UI tests) behind the CardReader port, and
the config-driven factory and diagnostics of devices.card."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from app.compose import build_card_reader
from devices.card.identity import gender
from devices.card.simulator import SimulatedCardReader
from devices.cccd.errors import CardRemoved, CardTimeout, NoCard, ReaderGone, WrongAccessKey
from kiosk.config.loader import config_from_dict
from kiosk.domain import AccessKey, Assurance, IdentitySource
from kiosk.operations.diagnostics import FAIL, OK, WARN
from kiosk.ports import CARD_INSERTED, CARD_REMOVED, DEVICE_MISSING, DEVICE_READY, CardReader


@pytest.fixture
def sim():
    reader = SimulatedCardReader(read_time_s=0.0)
    events: list[str] = []
    reader.start(events.append)
    reader.events = events
    yield reader
    reader.stop()


def test_simulator_reads_demo_people_verified(sim):
    for name in ("start", "stop", "read_identity"):  # the CardReader port
        assert callable(getattr(sim, name)) and hasattr(CardReader, name)
    sim.insert_card("ngoc")
    identity = sim.read_identity(AccessKey.from_citizen_id("027185004321"), with_photo=True)
    assert identity.source is IdentitySource.CHIP and identity.assurance is Assurance.CHIP_VERIFIED
    assert identity.full_name == "TRẦN THỊ BÍCH NGỌC" and identity.sex == "female"
    assert identity.birth_date == dt.date(1985, 7, 22) and identity.photo[:3] == b"\xff\xd8\xff"
    assert sim.events == [DEVICE_READY, CARD_INSERTED]
    assert sim.read_identity(AccessKey(can="004321")).photo is None
    assert sim.read_photo() == identity.photo


def test_simulator_scripts_the_failures(sim):
    key = AccessKey(can="012345")
    with pytest.raises(NoCard):
        sim.read_identity(key)
    sim.insert_card("an")
    with pytest.raises(WrongAccessKey):
        sim.read_identity(AccessKey(can="000000"))
    sim.remove_during_next_read()
    with pytest.raises(CardRemoved):
        sim.read_identity(key)
    assert sim.events[-1] == CARD_REMOVED and sim.card is None
    sim.insert_card("an")
    sim.set_slow(5.0)
    with pytest.raises(CardTimeout):
        sim.read_identity(key, timeout=0.2)
    sim.set_slow(0.0)
    sim.tamper("DG13")
    tampered = sim.read_identity(key)
    assert tampered.assurance is Assurance.CHIP_UNVERIFIED and tampered.extra["passive_auth"] == "failed"
    sim.unplug()
    with pytest.raises(ReaderGone):
        sim.read_identity(key)
    assert sim.events[-1] == DEVICE_MISSING
    sim.plug_in()
    assert sim.events[-1] == DEVICE_READY


def test_removal_during_a_slow_read(sim):
    sim.insert_card("hung")
    sim.set_slow(5.0)
    timer = threading.Timer(0.1, sim.remove_card)
    timer.start()
    with pytest.raises(CardRemoved):
        sim.read_identity(AccessKey(can="000777"))
    timer.join()


def test_bac_key_on_the_simulator(sim):
    sim.insert_card("an")
    key = AccessKey(document_number="093012345", birth_date=dt.date(1993, 1, 5), expiry_date=dt.date(2033, 1, 5))
    assert sim.read_identity(key).citizen_id == "001093012345"
    with pytest.raises(WrongAccessKey):
        sim.read_identity(AccessKey(document_number="093012345", birth_date=dt.date(1993, 1, 6),
                                    expiry_date=dt.date(2033, 1, 5)))


def test_gender_mapping_is_unicode_tolerant():
    import unicodedata

    assert gender("Nam") == "male" and gender("Nữ") == "female"
    assert gender(unicodedata.normalize("NFD", "Nữ")) == "female" and gender("X") == "unknown"


def test_factory_picks_the_driver_and_keeps_pyscard_lazy():
    assert build_card_reader(config_from_dict({"card_reader": {"driver": "none"}})) is None
    reader = build_card_reader(config_from_dict({"card_reader": {"driver": "simulator"}}))
    assert isinstance(reader, SimulatedCardReader)
    pcsc = build_card_reader(config_from_dict({"card_reader": {"driver": "pcsc", "reader": "X",
                                                               "extended_length": "off"}}))
    assert type(pcsc).__name__ == "PcscCardReader" and pcsc.extended_length == "off"


def diagnose(config):
    """What `kiosk doctor` asks of the reader the config builds."""
    reader = build_card_reader(config)
    try:
        return reader.diagnose()
    finally:
        reader.close()


def test_diagnose_simulator_and_trust_store(tmp_path):
    checks = diagnose(config_from_dict({"card_reader": {"driver": "simulator"}}))
    assert [c.status for c in checks] == [WARN]
    missing = diagnose(config_from_dict({"card_reader": {"driver": "pcsc", "trust_store": str(tmp_path / "nope"),
                                                         "reader": "No Such Reader"}}))
    by_name = {c.name: c for c in missing}
    assert by_name["card_reader.trust_store"].status == FAIL
    assert by_name.get("card_reader.reader", by_name.get("card_reader.pcscd")).status == FAIL
    from devices.cccd.sample_card import make_pki

    make_pki().write_csca(tmp_path / "csca")
    ok = diagnose(config_from_dict({"card_reader": {"driver": "pcsc", "trust_store": str(tmp_path / "csca")}}))
    assert {c.name: c.status for c in ok}["card_reader.trust_store"] == OK


def test_simulator_does_not_need_pyscard():
    import subprocess
    import sys

    code = ("import sys, devices.card, devices.card.simulator, devices.cccd.chip_read;"
            "devices.card.simulated_card_reader(__import__('kiosk.config.loader').config.loader.Config());"
            "assert 'smartcard' not in sys.modules, 'pyscard imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__('pathlib').Path(__file__).parents[2]))


def run_cli(*args, env=None):
    import json
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "kiosk.toml"
        config.write_text('[card_reader]\ndriver = "pcsc"\n')
        out = subprocess.run([sys.executable, "-m", "app", "read-card", *args], capture_output=True, text=True,
                             cwd=root, env={**os.environ, "KIOSK_CONFIG": str(config), **(env or {})}, timeout=60)
    return out.returncode, (json.loads(out.stdout) if out.stdout.strip().startswith("{") else out.stdout), out.stderr


def test_cli_on_the_simulator_with_an_mrz_key():
    from devices.cccd.mrz import td1_for_cccd

    mrz = td1_for_cccd("001093012345", dt.date(1993, 1, 5), "M", dt.date(2033, 1, 5), "NGUYEN", "VAN AN")
    code, result, _ = run_cli("--simulator", "an", "--mrz", mrz, "--json")
    assert code == 0 and result["access_control"] == "BAC"
    assert result["dg13"]["full_name"] == "NGUYỄN VĂN AN" and result["dg1"]["format"] == "TD1"
    # the simulator's own demo CSCA is not in a configured trust store: "not verifiable" at the CLI
    assert result["passive_auth"] in ("verified", "not_verifiable")
    from devices.cccd.mrz import bac_key_seed_input

    info = bac_key_seed_input("093012345", "930105", "330105")
    code, result, _ = run_cli("--simulator", "an", "--mrz", info, "--json")
    assert code == 0 and result["dg13"]["citizen_id"] == "001093012345"
    broken = info[:-1] + str((int(info[-1]) + 1) % 10)
    code, _, err = run_cli("--simulator", "an", "--mrz", broken, "--json")
    assert code == 1 and "check digit" in err


def test_cli_typed_errors_and_bad_keys():
    code, result, _ = run_cli("--simulator", "an", "--can", "111111", "--json")
    assert code == 1 and result["error"] == "WrongAccessKey"
    assert result["message"].startswith("Số định danh không khớp")
    code, _, err = run_cli("--simulator", "an", "--can", "12ab56")
    assert code == 1 and "--can: expected the 6-digit card access number" in err


def test_pcscd_not_running_is_reader_gone(tmp_path):
    """What a kiosk sees when pcscd is stopped: libpcsclite finds no daemon socket."""
    code, result, _ = run_cli("--can", "012345", "--json", "--timeout", "3",
                              env={"PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")})
    assert code == 1 and result["error"] == "ReaderGone"
    assert result["message"].startswith("Đầu đọc thẻ đang gặp sự cố")
