"""CCCD chip reader adapters: PC/SC (pyscard) and a scriptable simulator.

``build_card_reader(config)`` picks one from ``[card_reader] driver``;
``diagnose(config)`` gives `kiosk doctor` its checks. pyscard is imported only
inside the PC/SC branch, so the simulator works without pcscd or pyscard.
"""
from __future__ import annotations

from pathlib import Path

from kiosk.config import Config
from kiosk.diagnostics import FAIL, OK, WARN, Check


def build_card_reader(config: Config):
    section = config.card_reader
    if section.driver == "none":
        return None
    if section.driver == "simulator":
        from .simulator import SimulatedCardReader

        return SimulatedCardReader(timeout_s=section.timeout_s)
    from .pcsc import PcscCardReader

    return PcscCardReader(section.reader, timeout_s=section.timeout_s, trust_store=section.trust_store,
                          extended_length=section.extended_length, poll_s=section.poll_interval_s)


def diagnose(config: Config) -> list[Check]:
    section = config.card_reader
    if section.driver == "none":
        return [Check("card_reader.driver", OK, "no card reader configured (driver = none)")]
    if section.driver == "simulator":
        return [Check("card_reader.driver", WARN, "simulated card reader (demo mode)",
                      "set card_reader.driver = \"pcsc\" on a kiosk with a real reader")]
    checks = [_trust_check(section.trust_store)]
    try:
        from smartcard import scard
    except ImportError as exc:
        return [Check("card_reader.pyscard", FAIL, f"pyscard cannot be imported ({exc.__class__.__name__})",
                      "install libpcsclite and reinstall pyscard (make install)")] + checks
    rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rc != scard.SCARD_S_SUCCESS:
        return [Check("card_reader.pcscd", FAIL, f"PC/SC service not reachable ({scard.SCardGetErrorMessage(rc)})",
                      "start the PC/SC daemon: systemctl enable --now pcscd")] + checks
    try:
        rc, names = scard.SCardListReaders(ctx, [])
        names = list(names) if rc == scard.SCARD_S_SUCCESS else []
        checks.insert(0, Check("card_reader.pcscd", OK, "PC/SC service running"))
        match = [n for n in names if section.reader.lower() in n.lower()]
        if not match:
            wanted = f"matching {section.reader!r}" if section.reader else "at all"
            checks.insert(1, Check("card_reader.reader", FAIL, f"no reader {wanted}; readers seen: {names or 'none'}",
                                   "plug in the reader or fix card_reader.reader"))
            return checks
        reader = match[0]
        rc, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        present = rc == scard.SCARD_S_SUCCESS and bool(states[0][1] & scard.SCARD_STATE_PRESENT)
        checks.insert(1, Check("card_reader.reader", OK,
                               f"reader {reader!r} ({'card on it' if present else 'no card'})"))
        return checks
    finally:
        scard.SCardReleaseContext(ctx)


def _trust_check(folder: str) -> Check:
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
