"""The APDU conversation with an eMRTD chip, independent of how bytes travel.

``ChipSession`` gets a ``transmit(bytes) -> bytes`` function (PC/SC in
production, anything in tests) and does: EF.CardAccess → PACE (CAN) with a
BAC fallback (MRZ data) → SELECT the eMRTD application → READ BINARY by short
file identifier in the largest blocks allowed. It counts APDUs and bytes so
the benchmark can compare them with the minimum.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date
from typing import Callable

from devices.cccd import tlv
from devices.cccd.bac import BacTerminal
from devices.cccd.errors import (
    CardCommandError,
    CardError,
    CardParseError,
    CardRemoved,
    CardTimeout,
    NotAnEmrtd,
    SecureMessagingError,
    WrongAccessKey,
)
from devices.cccd.lds import EMRTD_AID, FILES, CardAccess, parse_card_access
from devices.cccd.mrz import yymmdd
from devices.cccd.pace import (
    PASSWORD_CAN,
    PASSWORD_MRZ,
    PaceTerminal,
    can_password,
    dynamic_data,
    mrz_password,
    parse_dynamic,
)
from devices.cccd.sm import Apdu, SecureMessaging, split_response

log = logging.getLogger(__name__)

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282
SW_WRONG_LENGTH = 0x6700
SW_FILE_NOT_FOUND = 0x6A82
SW_SECURITY_NOT_SATISFIED = 0x6982
WRONG_KEY_SWS = {0x6300, 0x6982, 0x6985, 0x6A80, 0x6A88, 0x6988, 0x6987}

SHORT_MAX = {None: 256, "3DES": 231, "AES": 223}  # plaintext per short APDU response


@dataclass
class Stats:
    apdus: int = 0
    auth_apdus: int = 0
    wire_bytes: int = 0  # command + response bytes on the wire
    file_bytes: int = 0  # plaintext file bytes read

    def to_json(self) -> dict:
        return {"apdus": self.apdus, "auth_apdus": self.auth_apdus, "wire_bytes": self.wire_bytes,
                "bytes_read": self.file_bytes}


@dataclass(frozen=True)
class Key:
    """The access key as plain strings (the domain's AccessKey converts here)."""

    can: str | None = None
    document_number: str | None = None
    birth: date | None = None
    expiry: date | None = None

    @property
    def has_bac(self) -> bool:
        return bool(self.document_number and self.birth and self.expiry)


def atr_supports_extended(atr: bytes) -> bool:
    """Card capabilities (ISO 7816-4 §8.1.1.2.7) in the ATR's historical bytes:
    compact-TLV tag 7, third byte, bit 0x40 = extended Lc/Le supported."""
    try:
        hist = _historical_bytes(bytes(atr))
    except IndexError:
        return False
    if not hist or hist[0] != 0x80:
        return False
    pos = 1
    while pos < len(hist):
        tag, length = hist[pos] >> 4, hist[pos] & 0x0F
        value = hist[pos + 1:pos + 1 + length]
        if tag == 0x7 and len(value) >= 3:
            return bool(value[2] & 0x40)
        pos += 1 + length
    return False


def _historical_bytes(atr: bytes) -> bytes:
    count = atr[1] & 0x0F
    y, pos = atr[1] >> 4, 2
    while True:
        pos += bin(y & 0x0F).count("1") - (1 if y & 0x08 else 0)
        if y & 0x08:
            td = atr[pos]
            pos += 1
            y = td >> 4
        else:
            break
    return atr[pos:pos + count]


class ChipSession:
    def __init__(self, transmit: Callable[[bytes], bytes], *, extended: bool = False,
                 extended_block: int = 0xF000, deadline: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self._transmit = transmit
        self.extended = extended
        self.extended_block = extended_block
        self.deadline = deadline
        self.clock = clock
        self.sm: SecureMessaging | None = None
        self.stats = Stats()
        self.protocol = ""  # "PACE" or "BAC" once open
        self.extended_refused = False  # the card answered 6700 in plain to an extended APDU
        self.plain_answer = False
        self._key: Key | None = None
        self._in_auth = False

    # -- transport ------------------------------------------------------------
    def send(self, apdu: Apdu) -> tuple[bytes, int]:
        if self.deadline is not None and self.clock() > self.deadline:
            raise CardTimeout("card read exceeded card_reader.timeout_s")
        wire = self.sm.wrap(apdu) if self.sm else apdu
        raw_cmd = wire.encode()
        raw = self._transmit(raw_cmd)
        self.stats.apdus += 1
        self.stats.auth_apdus += self._in_auth
        self.stats.wire_bytes += len(raw_cmd) + len(raw or b"")
        if raw is None or len(raw) < 2:
            # pcscd 1.9.9 answers the APDU in flight at removal with 0 bytes
            raise CardRemoved("card answered without a status word (removed during the read)")
        self.plain_answer = not self.sm or len(raw) == 2
        if self.sm:
            data, sw = self.sm.unwrap(raw)
            if sw == SW_SECURITY_NOT_SATISFIED and not data:
                self.sm = None  # the chip dropped secure messaging
            return data, sw
        return split_response(raw)

    # -- access control ---------------------------------------------------------
    def open(self, key: Key) -> str:
        """Authenticate and select the eMRTD application. Returns "PACE" or "BAC"."""
        self._key = key
        self._in_auth = True
        try:
            card_access = self._card_access() if (key.can or key.has_bac) else None
            pace_info = card_access.best_pace() if card_access else None
            if pace_info is not None:
                # PACE first (ICAO prefers it to BAC): the CAN, else the MRZ data as password
                if key.can:
                    password, ref = can_password(key.can), PASSWORD_CAN
                else:
                    password, ref = mrz_password(key.document_number, yymmdd(key.birth), yymmdd(key.expiry)), PASSWORD_MRZ
                try:
                    self._pace(pace_info.protocol, pace_info.parameter_id, password, ref, len(card_access.pace) > 1)
                    self._select_application()
                    self.protocol = "PACE"
                    return self.protocol
                except (WrongAccessKey, CardCommandError, SecureMessagingError) as exc:
                    if not key.has_bac:
                        if isinstance(exc, WrongAccessKey):
                            raise
                        raise WrongAccessKey(f"PACE failed ({exc}); no MRZ data for a BAC fallback") from None
                    log.info("PACE failed (%s); falling back to BAC", exc)
                    self.sm = None
            elif not key.has_bac:
                self._select_application()  # NotAnEmrtd when it is not a passport/ID chip at all
                raise WrongAccessKey("card offers no usable PACE and no MRZ data was given for BAC")
            self._select_application()
            self._bac(key)
            self.protocol = "BAC"
            return self.protocol
        finally:
            self._in_auth = False

    def _card_access(self) -> CardAccess | None:
        data, sw = self.send(Apdu(0x00, 0xB0, 0x80 | FILES["CardAccess"][1], 0x00, le=256))
        if sw not in (SW_OK, SW_END_OF_FILE) or not data:
            return None
        total = tlv.header_size(data)
        while total is not None and len(data) < total:
            more, sw = self.send(Apdu(0x00, 0xB0, len(data) >> 8, len(data) & 0xFF, le=min(256, total - len(data))))
            if sw not in (SW_OK, SW_END_OF_FILE) or not more:
                return None
            data += more
        try:
            return parse_card_access(data)
        except CardParseError as exc:
            log.warning("EF.CardAccess unreadable (%s); trying BAC", exc)
            return None

    def _pace(self, protocol: str, parameter_id: int | None, password: bytes, ref: int, name_params: bool) -> None:
        term = PaceTerminal(protocol, parameter_id if parameter_id is not None else 13, password)
        mse = term.mse_set_at_data(ref)
        if name_params and parameter_id is not None:
            mse += tlv.encode(0x84, bytes([parameter_id]))
        self._expect(Apdu(0x00, 0x22, 0xC1, 0xA4, mse), "PACE MSE:Set AT")
        nonce = parse_dynamic(self._expect(Apdu(0x10, 0x86, 0, 0, dynamic_data(0, b""), le=256), "PACE step 1"), 0x80)
        term.decrypt_nonce(nonce)
        chip_map = parse_dynamic(self._expect(
            Apdu(0x10, 0x86, 0, 0, dynamic_data(0x81, term.mapping_public()), le=256), "PACE step 2"), 0x82)
        term.map_generator(chip_map)
        chip_dh = parse_dynamic(self._expect(
            Apdu(0x10, 0x86, 0, 0, dynamic_data(0x83, term.ephemeral_public()), le=256), "PACE step 3"), 0x84)
        term.agree(chip_dh)
        data, sw = self.send(Apdu(0x00, 0x86, 0, 0, dynamic_data(0x85, term.terminal_token()), le=256))
        if sw != SW_OK:
            raise WrongAccessKey(f"PACE: chip refused our token (SW {sw:04X}): wrong CAN")
        self.sm = term.check_chip_token(parse_dynamic(data, 0x86))

    def _bac(self, key: Key) -> None:
        term = BacTerminal.from_mrz(key.document_number, yymmdd(key.birth), yymmdd(key.expiry))
        rnd_ic = self._expect(Apdu(0x00, 0x84, 0, 0, le=8), "BAC GET CHALLENGE")
        if len(rnd_ic) != 8:
            raise CardParseError("BAC: challenge is not 8 bytes")
        data, sw = self.send(Apdu(0x00, 0x82, 0, 0, term.authenticate_data(rnd_ic), le=40))
        if sw in WRONG_KEY_SWS:
            raise WrongAccessKey(f"BAC: chip refused the MRZ key (SW {sw:04X})")
        if sw != SW_OK:
            raise CardCommandError(f"BAC EXTERNAL AUTHENTICATE answered {sw:04X}", sw=sw)
        self.sm = term.finish(data)

    def _select_application(self) -> None:
        _, sw = self.send(Apdu(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID))
        if sw in (SW_FILE_NOT_FOUND, 0x6A86, 0x6D00, 0x6E00):
            raise NotAnEmrtd(f"no eMRTD application on the card (SW {sw:04X})")
        if sw != SW_OK:
            raise CardCommandError(f"SELECT eMRTD application answered {sw:04X}", sw=sw)

    def _expect(self, apdu: Apdu, what: str) -> bytes:
        data, sw = self.send(apdu)
        if sw != SW_OK:
            if sw in WRONG_KEY_SWS and apdu.ins == 0x86:
                raise WrongAccessKey(f"{what} refused (SW {sw:04X})")
            raise CardCommandError(f"{what} answered {sw:04X}", sw=sw)
        return data

    # -- reading files ------------------------------------------------------------
    def block_size(self) -> int:
        cipher = self.sm.cipher if self.sm else None
        return self.extended_block if self.extended else SHORT_MAX[cipher]

    def read_file(self, name: str) -> bytes:
        """READ BINARY by short file identifier (no SELECT), largest blocks first."""
        sfi = FILES[name][1]
        data, sw = self._read(0x80 | sfi, 0x00, self.block_size(), name)
        total = tlv.header_size(data)
        if total is None:
            raise CardParseError(f"{name}: file too short to hold a TLV header")
        while len(data) < total:
            offset = len(data)
            if offset > 0x7FFF:
                raise CardParseError(f"{name}: larger than 32 KB, beyond READ BINARY offsets")
            more, _ = self._read(offset >> 8, offset & 0xFF, min(self.block_size(), total - offset), name)
            if not more:
                raise CardParseError(f"{name}: file ends before its announced length")
            data += more
        self.stats.file_bytes += total
        return data[:total]

    def _read(self, p1: int, p2: int, le: int, name: str) -> tuple[bytes, int]:
        for _ in range(8):
            try:
                data, sw = self.send(Apdu(0x00, 0xB0, p1, p2, le=le, extended=le > 256))
            except CardError as exc:
                if type(exc) is not CardError or not self.extended or self._key is None:
                    raise  # removed, reader gone, timeout: not a length problem
                # a reader without extended-APDU support fails the transmit itself
                log.info("extended READ BINARY failed in transport (%s); re-opening with short APDUs", exc)
                self.extended, self.extended_refused, self.sm = False, True, None
                self.open(self._key)
                le = min(le, self.block_size())
                continue
            if sw in (SW_OK, SW_END_OF_FILE) and data:
                return data, sw
            if sw >> 8 == 0x6C and sw & 0xFF:
                le = sw & 0xFF  # the chip tells the exact length
                continue
            if sw == SW_WRONG_LENGTH and self.extended:
                if self.plain_answer and self._key is not None:
                    # refused before secure messaging saw it: the SM session is
                    # out of step, so open a fresh one with short APDUs
                    log.info("extended length refused by the card; re-opening with short APDUs")
                    self.extended, self.extended_refused, self.sm = False, True, None
                    self.open(self._key)
                else:
                    # the card's buffer is smaller than asked: halve the block
                    self.extended_block //= 2
                    self.extended = self.extended_block > SHORT_MAX[self.sm.cipher if self.sm else None]
                le = min(le, self.block_size())
                continue
            if sw == SW_FILE_NOT_FOUND:
                raise CardCommandError(f"{name} not found on the card", sw=sw)
            if sw == SW_SECURITY_NOT_SATISFIED:
                raise CardCommandError(f"{name} needs more access rights (EAC)", sw=sw)
            raise CardCommandError(f"READ BINARY {name} answered {sw:04X}", sw=sw)
        raise CardCommandError(f"READ BINARY {name}: no usable length")
