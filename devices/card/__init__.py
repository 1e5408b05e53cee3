"""CCCD chip reader adapters: PC/SC (pyscard) and a scriptable simulator.

``pcsc_card_reader(config)`` and ``simulated_card_reader(config)`` build one
from ``[card_reader]`` (``app.compose.build_card_reader`` picks by its
``driver``); each reader's ``diagnose()`` gives `kiosk doctor` its checks.
pyscard is imported only when a PC/SC reader is built, so the simulator works
without pcscd or pyscard.
"""
from __future__ import annotations

from pathlib import Path

from kiosk.config.loader import Config
from kiosk.operations.diagnostics import FAIL, OK, WARN, Check


def simulated_card_reader(config: Config):
    """The simulator with the demo cards (``devices.cccd.sample_card``)."""
    from devices.card.simulator import SimulatedCardReader

    return SimulatedCardReader(timeout_s=config.card_reader.timeout_s)


def pcsc_card_reader(config: Config):
    """The PC/SC reader ``card_reader.reader`` on its own device thread."""
    from devices.card.pcsc import PcscCardReader

    section = config.card_reader
    return PcscCardReader(section.reader, timeout_s=section.timeout_s, trust_store=section.trust_store,
                          extended_length=section.extended_length, poll_s=section.poll_interval_s)


def trust_check(folder: str) -> Check:
    from devices.cccd.sod import load_trust_store

    if not folder:
        return Check("card_reader.trust_store", WARN,
                     "no CSCA trust store: chip data will be 'not verifiable' (CHIP_UNVERIFIED)",
                     "set card_reader.trust_store to a folder with the Vietnamese CSCA certificates")
    if not Path(folder).expanduser().is_dir():
        return Check("card_reader.trust_store", FAIL, f"trust store folder {folder} does not exist",
                     "create it and put the CSCA certificates (PEM or DER) in it")
    count = len(load_trust_store(folder))
    if not count:
        return Check("card_reader.trust_store", FAIL, f"no certificates in {folder}",
                     "put the CSCA certificates (PEM or DER) in the folder")
    return Check("card_reader.trust_store", OK, f"{count} CSCA certificate(s) in {folder}")
