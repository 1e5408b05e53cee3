"""The real CCCD reader: pyscard (PC/SC) on one device thread.

pyscard and pcscd contexts are not meant to be shared between threads, so one
thread owns the PC/SC context. Between reads it polls the reader every
``poll_s`` (card inserted/removed, reader unplugged, pcscd gone) and reports
changes; ``read_identity`` hands a job to that thread and waits with a
timeout. Removal and a vanished reader are told apart: a failed transmit is
followed by a fresh reader list.
"""
from __future__ import annotations

import logging
import time

from smartcard import scard

from devices.card.identity import identity_from_chip, session_key
from devices.cccd.chip_read import ChipData, read_chip, read_photo
from devices.cccd.errors import CardError, CardRemoved, CardTimeout, NoCard, ReaderGone
from devices.cccd.session import ChipSession, atr_supports_extended
from devices.cccd.sod import load_trust_store
from devices.worker import DeviceWorker
from kiosk.domain import AccessKey, Identity
from kiosk.operations import metrics
from kiosk.operations.diagnostics import FAIL, OK, Check
from kiosk.ports import CARD_INSERTED, CARD_REMOVED, DEVICE_MISSING, DEVICE_READY, DeviceEventCallback

log = logging.getLogger(__name__)

_REMOVED = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_RESET_CARD,
            scard.SCARD_W_UNPOWERED_CARD, scard.SCARD_W_UNRESPONSIVE_CARD}
_GONE = {scard.SCARD_E_READER_UNAVAILABLE, scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_NO_SERVICE,
         scard.SCARD_E_SERVICE_STOPPED, scard.SCARD_E_NO_READERS_AVAILABLE}


def _u32(rc: int) -> int:
    return rc & 0xFFFFFFFF


_REMOVED = {_u32(c) for c in _REMOVED}
_GONE = {_u32(c) for c in _GONE}


def scard_error(rc: int, what: str) -> CardError:
    code = _u32(rc)
    text = f"{what}: PC/SC {code:#010x} ({scard.SCardGetErrorMessage(rc)})"
    if code in _REMOVED:
        return CardRemoved(text)
    if code in _GONE:
        return ReaderGone(text)
    if code == _u32(scard.SCARD_E_TIMEOUT):
        return CardTimeout(text)
    return CardError(text)


class PcscCardReader:
    """``kiosk.ports.CardReader`` on PC/SC."""

    def __init__(self, reader: str = "", *, timeout_s: float = 15.0, trust_store: str = "",
                 extended_length: str = "auto", poll_s: float = 0.25):
        self.reader_filter = reader
        self.timeout_s = timeout_s
        self.trust_store = trust_store
        self.extended_length = extended_length
        self.poll_s = poll_s
        # Between jobs the device thread polls the reader (card in/out, reader unplugged).
        self.worker = DeviceWorker("card-reader", idle=self._poll, idle_every_s=poll_s, on_exit=self._release,
                                   timeout_error=CardTimeout)
        self._on_event: DeviceEventCallback = lambda _event: None
        self._ctx = None
        self._state: str | None = None  # last reported: DEVICE_MISSING / CARD_INSERTED / CARD_REMOVED
        self.last_stats: dict | None = None
        self.last_chip: ChipData | None = None
        self._no_extended: set[bytes] = set()  # ATRs of cards that refused extended length
        self._open = None  # (handle, reader, session, chip data, expires) kept for read_photo
        self.photo_window_s = 30.0

    # -- port -------------------------------------------------------------------
    def start(self, on_event: DeviceEventCallback) -> None:
        self._on_event = on_event
        self.worker.reopen()
        self.worker.start()

    def stop(self) -> None:
        self.worker.close(timeout=max(2.0, self.poll_s * 4))

    close = stop

    def read_identity(self, key: AccessKey, *, with_photo: bool = False, timeout: float | None = None) -> Identity:
        timeout = timeout or self.timeout_s
        data = self.call(lambda: self._read(key, with_photo, timeout), timeout + 1.0)
        return identity_from_chip(data, with_photo=with_photo)

    def read_chip(self, key: AccessKey, *, with_photo: bool = False, timeout: float | None = None) -> ChipData:
        """The full chip data (CLI, benchmark); same device thread as read_identity."""
        timeout = timeout or self.timeout_s
        return self.call(lambda: self._read(key, with_photo, timeout), timeout + 1.0)

    def diagnose(self) -> list[Check]:
        """pcscd, the reader (and whether a card is on it), the CSCA trust store;
        asked on the reader's own thread, which owns the PC/SC context."""
        from devices.card import trust_check

        try:
            checks = self.call(self._diagnose, 5.0)
        except CardError as exc:
            checks = [Check("card_reader.pcscd", FAIL, f"PC/SC not usable ({exc})",
                            "start the PC/SC daemon: systemctl enable --now pcscd")]
        return checks + [trust_check(self.trust_store)]

    def _diagnose(self) -> list[Check]:
        try:
            ctx = self._context()
        except ReaderGone as exc:
            return [Check("card_reader.pcscd", FAIL, f"PC/SC service not reachable ({exc})",
                          "start the PC/SC daemon: systemctl enable --now pcscd")]
        checks = [Check("card_reader.pcscd", OK, "PC/SC service running")]
        names = self._list_readers()
        reader = self._find_reader() if names else None
        if reader is None:
            wanted = f"matching {self.reader_filter!r}" if self.reader_filter else "at all"
            return checks + [Check("card_reader.reader", FAIL, f"no reader {wanted}; readers seen: {names or 'none'}",
                                   "plug in the reader or fix card_reader.reader")]
        rc, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        present = rc == scard.SCARD_S_SUCCESS and bool(states[0][1] & scard.SCARD_STATE_PRESENT)
        return checks + [Check("card_reader.reader", OK, f"reader {reader!r} ({'card on it' if present else 'no card'})")]

    # -- device thread ------------------------------------------------------------
    def call(self, fn, timeout: float):
        """Run ``fn`` on the device thread; CardTimeout if it does not finish in time."""
        if not self.worker.running:
            self.start(self._on_event)
        return self.worker.call(fn, timeout)

    def _context(self):
        if self._ctx is None:
            rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if rc != scard.SCARD_S_SUCCESS:
                raise scard_error(rc, "PC/SC service (pcscd)")
            self._ctx = ctx
        return self._ctx

    def _release(self) -> None:
        self._close_open_session()
        if self._ctx is not None:
            scard.SCardReleaseContext(self._ctx)
            self._ctx = None

    def _list_readers(self) -> list[str]:
        try:
            ctx = self._context()
        except ReaderGone:
            return []
        rc, names = scard.SCardListReaders(ctx, [])
        if rc != scard.SCARD_S_SUCCESS:
            if _u32(rc) in {_u32(scard.SCARD_E_NO_SERVICE), _u32(scard.SCARD_E_SERVICE_STOPPED),
                            _u32(scard.SCARD_E_INVALID_HANDLE)}:
                self._release()  # pcscd restarted: a new context next time
            return []
        return list(names)

    def _find_reader(self) -> str | None:
        names = self._list_readers()
        for name in names:
            if self.reader_filter.lower() in name.lower():
                return name
        return None

    def _poll(self) -> None:
        reader = self._find_reader()
        if reader is None:
            self._close_open_session()
            self._report(DEVICE_MISSING)
            return
        rc, states = scard.SCardGetStatusChange(self._ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        if rc != scard.SCARD_S_SUCCESS:
            self._report(DEVICE_MISSING)
            return
        present = bool(states[0][1] & scard.SCARD_STATE_PRESENT)
        if self._open is not None and (not present or time.monotonic() > self._open[4]):
            self._close_open_session()
        self._report(CARD_INSERTED if present else CARD_REMOVED)

    def _report(self, state: str) -> None:
        if state == self._state:
            return
        previous, self._state = self._state, state
        metrics.set_device_up("card_reader", state != DEVICE_MISSING)
        if previous == DEVICE_MISSING or (previous is None and state != DEVICE_MISSING):
            self._emit(DEVICE_READY)
        if state == CARD_REMOVED and previous in (None, DEVICE_MISSING):
            return  # a reader that just appeared empty is "ready", not "card removed"
        self._emit(state)

    def _emit(self, event: str) -> None:
        try:
            self._on_event(event)
        except Exception:  # a broken listener must not kill the device thread
            log.exception("card reader event listener failed")

    # -- one read ---------------------------------------------------------------------
    def _read(self, key: AccessKey, with_photo: bool, timeout: float) -> ChipData:
        self._close_open_session()
        deadline = time.monotonic() + timeout
        reader = self._find_reader()
        if reader is None:
            raise ReaderGone(f"no PC/SC reader matches card_reader.reader={self.reader_filter!r}")
        rc, hcard, protocol = scard.SCardConnect(self._ctx, reader, scard.SCARD_SHARE_SHARED,
                                                 scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        if rc != scard.SCARD_S_SUCCESS:
            err = scard_error(rc, f"connect to {reader}")
            raise NoCard(str(err)) if isinstance(err, CardRemoved) else err
        keep = False
        try:
            rc, _name, _state, _proto, atr = scard.SCardStatus(hcard)
            atr = bytes(atr) if rc == scard.SCARD_S_SUCCESS else b""
            extended = {"on": True, "off": False}.get(self.extended_length, atr_supports_extended(atr))
            extended = extended and atr not in self._no_extended

            def transmit(command: bytes) -> bytes:
                rc, response = scard.SCardTransmit(hcard, protocol, list(command))
                if rc != scard.SCARD_S_SUCCESS:
                    raise scard_error(rc, "transmit")
                return bytes(response)

            session = ChipSession(transmit, extended=extended, deadline=deadline)
            try:
                data = self._guard(reader, lambda: read_chip(session, session_key(key), trust=self._trust(),
                                                             with_photo=with_photo))
            finally:
                self.last_stats = session.stats.to_json()
                if session.extended_refused:
                    self._no_extended.add(atr)
            self.last_chip = data
            if not with_photo and "DG2" in data.com.data_groups:
                # keep the secure-messaging session briefly so read_photo() needs no new PACE
                self._open = (hcard, reader, session, data, time.monotonic() + self.photo_window_s)
                keep = True
            return data
        finally:
            if not keep:
                scard.SCardDisconnect(hcard, scard.SCARD_RESET_CARD)  # drop the session keys

    def _trust(self):
        return load_trust_store(self.trust_store)

    def _guard(self, reader: str, fn):
        try:
            return fn()
        except CardRemoved:
            if self._find_reader() is None:
                raise ReaderGone(f"reader {reader} disappeared during the read") from None
            raise

    # -- the face image, off the critical path -------------------------------------------
    def read_photo(self, timeout: float | None = None) -> bytes:
        """DG2 of the card just read, in the same secure-messaging session (no new
        PACE); its hash joins passive authentication. Call after read_identity
        while the card is still on the reader."""
        timeout = timeout or self.timeout_s
        return self.call(lambda: self._read_photo(timeout), timeout + 1.0)

    def _read_photo(self, timeout: float) -> bytes:
        if self._open is None or time.monotonic() > self._open[4]:
            self._close_open_session()
            raise NoCard("no card session open for the photo: read the card again with with_photo=True")
        hcard, reader, session, data, _ = self._open
        session.deadline = time.monotonic() + timeout
        try:
            photo = self._guard(reader, lambda: read_photo(session, data, self._trust()))
            self.last_chip = data
            return photo.data
        finally:
            self._close_open_session()

    def _close_open_session(self) -> None:
        if self._open is not None:
            scard.SCardDisconnect(self._open[0], scard.SCARD_RESET_CARD)
            self._open = None
