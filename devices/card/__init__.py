"""CCCD chip reader adapters: PC/SC (pyscard) and a scriptable simulator.

``build_card_reader(config)`` picks one from ``[card_reader] driver``; each
reader's ``diagnose()`` gives `kiosk doctor` its checks. pyscard is imported
only inside the PC/SC branch, so the simulator works without pcscd or pyscard.
"""
from __future__ import annotations

from pathlib import Path

from kiosk.config.loader import Config
from kiosk.operations.diagnostics import FAIL, OK, WARN, Check


def build_card_reader(config: Config):
    section = config.card_reader
    if section.driver == "none":
        return None
    if section.driver == "simulator":
        from devices.card.simulator import SimulatedCardReader

        return SimulatedCardReader(timeout_s=section.timeout_s)
    from devices.card.pcsc import PcscCardReader

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
