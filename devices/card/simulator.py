"""A scriptable simulated CCCD reader behind the same ``CardReader`` port.

For the demo and UI tests. Sample cards are the demo people of
``assets/demo/hospital.json``; each card's LDS files are built and signed by
a demo CSCA at start, and a read runs the real parsers and passive
authentication on them — only the APDUs are skipped. Script it from a test
or the demo's admin keys::

    sim.insert_card("an")          # CARD_INSERTED
    sim.remove_card()              # CARD_REMOVED
    sim.set_slow(3.0)              # each read takes 3 s (timeouts)
    sim.remove_during_next_read()  # the next read fails with CardRemoved
    sim.unplug() / sim.plug_in()   # DEVICE_MISSING / DEVICE_READY
    sim.tamper("DG13")             # passive authentication fails -> CHIP_UNVERIFIED

A wrong CAN/MRZ key fails exactly as on a real card (WrongAccessKey).
"""
from __future__ import annotations

import datetime as dt
import threading

from devices.card.identity import identity_from_chip
from devices.cccd import sample_card
from devices.cccd.chip_read import ChipData
from devices.cccd.dg13 import parse_dg13
from devices.cccd.errors import CardRemoved, CardTimeout, NoCard, ReaderGone, WrongAccessKey
from devices.cccd.lds import dg_number, parse_com, parse_dg1, parse_dg2
from devices.cccd.sod import parse_sod, passive_authentication
from devices.worker import DeviceWorker
from kiosk.demo_data import demo_people
from kiosk.domain import AccessKey, Identity
from kiosk.operations import metrics
from kiosk.operations.diagnostics import WARN, Check
from kiosk.ports import CARD_INSERTED, CARD_REMOVED, DEVICE_MISSING, DEVICE_READY, DeviceEventCallback


class SimulatedCardReader:
    def __init__(self, *, demo_file: str | None = None, verified: bool = True, read_time_s: float = 0.3,
                 timeout_s: float = 15.0):
        self.people = {p["key"]: p for p in demo_people(demo_file)}
        self.pki = sample_card.make_pki("Demo CSCA (simulator)")
        self.trust = [self.pki.csca_cert] if verified else []
        self.read_time_s = read_time_s
        self.timeout_s = timeout_s
        self._files: dict[str, dict[str, bytes]] = {}
        self._card: str | None = None
        self._plugged = True
        self._remove_during_read = False
        self._tampered: set[str] = set()
        self._on_event: DeviceEventCallback = lambda _e: None
        self.worker = DeviceWorker("card-reader-sim", timeout_error=CardTimeout)
        self._removed = threading.Event()
        self.last_stats: dict | None = None
        self._last: tuple[str, dict[str, bytes]] | None = None

    # -- script ---------------------------------------------------------------
    def insert_card(self, person_key: str) -> None:
        if person_key not in self.people:
            raise KeyError(f"no demo person {person_key!r}")
        self._card = person_key
        self._removed.clear()
        self._emit(CARD_INSERTED)

    def remove_card(self) -> None:
        self._card = None
        self._removed.set()
        self._emit(CARD_REMOVED)

    def set_slow(self, seconds: float) -> None:
        self.read_time_s = seconds

    def remove_during_next_read(self) -> None:
        self._remove_during_read = True

    def tamper(self, group: str = "DG13") -> None:
        self._tampered.add(group)

    def unplug(self) -> None:
        self._plugged = False
        self._card = None
        self._removed.set()
        self._emit(DEVICE_MISSING)

    def plug_in(self) -> None:
        self._plugged = True
        self._emit(DEVICE_READY)

    @property
    def card(self) -> str | None:
        return self._card

    # -- port ---------------------------------------------------------------------
    def start(self, on_event: DeviceEventCallback) -> None:
        self._on_event = on_event
        self.worker.reopen()
        self.worker.start()
        self._emit(DEVICE_READY if self._plugged else DEVICE_MISSING)
        if self._card:
            self._emit(CARD_INSERTED)

    def stop(self) -> None:
        self.worker.close()

    close = stop

    def diagnose(self) -> list[Check]:
        return [Check("card_reader.driver", WARN, "simulated card reader (demo mode)",
                      "set card_reader.driver = \"pcsc\" on a kiosk with a real reader")]

    def read_identity(self, key: AccessKey, *, with_photo: bool = False, timeout: float | None = None) -> Identity:
        data = self.read_chip(key, with_photo=with_photo, timeout=timeout)
        return identity_from_chip(data, with_photo=with_photo)

    def read_chip(self, key: AccessKey, *, with_photo: bool = False, timeout: float | None = None) -> ChipData:
        timeout = timeout or self.timeout_s
        if not self.worker.running:
            self.worker.reopen()
        return self.worker.call(lambda: self._read(key, with_photo, timeout), timeout + 1.0)

    def read_photo(self, timeout: float | None = None) -> bytes:
        """DG2 of the card just read (same contract as the PC/SC reader)."""
        last = self._last
        if last is None or self._card != last[0]:
            raise NoCard("no card session open for the photo")
        return parse_dg2(last[1]["DG2"]).data

    # -- device thread ------------------------------------------------------------
    def _emit(self, event: str) -> None:
        if event in (DEVICE_MISSING, DEVICE_READY):
            metrics.set_device_up("card_reader", event == DEVICE_READY)
        self._on_event(event)

    def _card_files(self, person_key: str) -> dict[str, bytes]:
        if person_key not in self._files:
            files = sample_card.person_files(self.people[person_key])
            self._files[person_key] = sample_card.sign_files(files, self.pki)
        files = dict(self._files[person_key])
        for group in self._tampered:
            raw = bytearray(files[group])
            raw[-1] ^= 0x01
            files[group] = bytes(raw)
        return files

    def _read(self, key: AccessKey, with_photo: bool, timeout: float) -> ChipData:
        if not self._plugged:
            raise ReaderGone("simulated reader is unplugged")
        person_key = self._card
        if person_key is None:
            raise NoCard("no card on the simulated reader")
        person = self.people[person_key]
        wait = min(self.read_time_s, timeout)
        if self._removed.wait(wait) or self._remove_during_read:
            if self._remove_during_read:
                self._remove_during_read = False
                self.remove_card()
            raise CardRemoved("card lifted from the simulated reader during the read")
        if self.read_time_s > timeout:
            raise CardTimeout("simulated card is slower than card_reader.timeout_s")
        _check_key(person, key)
        files = self._card_files(person_key)
        com = parse_com(files["COM"])
        groups = {n: files[n] for n in ("DG1", "DG13") + (("DG2",) if with_photo else ())}
        result = passive_authentication(parse_sod(files["SOD"]), {dg_number(n): v for n, v in groups.items()},
                                        self.trust)
        self._last = (person_key, files)
        self.last_stats = {"apdus": 0, "bytes_read": sum(len(v) for v in groups.values()) + len(files["SOD"])}
        return ChipData("PACE" if key.can else "BAC", com, parse_dg1(files["DG1"]), parse_dg13(files["DG13"]),
                        parse_sod(files["SOD"]), result, parse_dg2(files["DG2"]) if with_photo else None, files)


def _check_key(person: dict, key: AccessKey) -> None:
    cid = person["citizen_id"]
    if key.can:
        if key.can != cid[-6:]:
            raise WrongAccessKey("PACE: chip refused our token (simulated): wrong CAN")
        return
    if key.has_bac:
        birth = dt.date.fromisoformat(person["birth_date"])
        expiry = sample_card.expiry_for(birth, dt.date.fromisoformat(person["issue_date"])) or dt.date(2099, 12, 31)
        if (key.document_number, key.birth_date, key.expiry_date) != (cid[-9:], birth, expiry):
            raise WrongAccessKey("BAC: chip refused the MRZ key (simulated)")
        return
    raise WrongAccessKey("no CAN and no MRZ data given")
