"""Command/response APDUs and secure messaging (ICAO 9303 Part 11 §9.8).

After BAC (3DES) or PACE (AES) every command is wrapped: data encrypted in
DO87, expected length in DO97, a MAC over the send-sequence counter and the
whole command in DO8E. Responses are checked the same way; a MAC mismatch
raises ``SecureMessagingError`` and ends the session.
"""
from __future__ import annotations

from dataclasses import dataclass

from devices.cccd import crypto, tlv
from devices.cccd.errors import SecureMessagingError

SW_OK = 0x9000


@dataclass(frozen=True)
class Apdu:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # None: no Le; 0 or 256/65536: "as much as available"
    extended: bool = False

    def encode(self) -> bytes:
        head = bytes([self.cla, self.ins, self.p1, self.p2])
        ext = self.extended or len(self.data) > 255 or (self.le is not None and self.le > 256)
        body = b""
        if ext:
            if self.data:
                body += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.le is not None:
                le = 0 if self.le >= 65536 else self.le
                body += (b"" if self.data else b"\x00") + le.to_bytes(2, "big")
        else:
            if self.data:
                body += bytes([len(self.data)]) + self.data
            if self.le is not None:
                body += bytes([0 if self.le >= 256 else self.le])
        return head + body


def split_response(raw: bytes) -> tuple[bytes, int]:
    if len(raw) < 2:
        raise SecureMessagingError("response without status word")
    return bytes(raw[:-2]), (raw[-2] << 8) | raw[-1]


class SecureMessaging:
    """One secure-messaging session: keys, cipher and the send-sequence counter."""

    def __init__(self, cipher: str, ks_enc: bytes, ks_mac: bytes, ssc: bytes):
        if cipher not in ("3DES", "AES"):
            raise ValueError(f"unsupported cipher {cipher}")
        self.cipher = cipher
        self.ks_enc = ks_enc
        self.ks_mac = ks_mac
        self.block = 8 if cipher == "3DES" else 16
        self.ssc = int.from_bytes(ssc, "big")

    # -- primitives --
    def _ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(self.block, "big")

    def _mac(self, data: bytes) -> bytes:
        padded = crypto.pad(self._ssc_bytes() + data, self.block)
        if self.cipher == "3DES":
            return crypto.retail_mac(self.ks_mac, padded)
        return crypto.aes_cmac(self.ks_mac, padded)

    def _iv(self) -> bytes:
        if self.cipher == "3DES":
            return b"\x00" * 8
        return crypto.aes_ecb(self.ks_enc, self._ssc_bytes())

    def _encrypt(self, data: bytes) -> bytes:
        padded = crypto.pad(data, self.block)
        if self.cipher == "3DES":
            return crypto.tdes_cbc(self.ks_enc, padded, iv=self._iv())
        return crypto.aes_cbc(self.ks_enc, padded, iv=self._iv())

    def _decrypt(self, data: bytes) -> bytes:
        if not data or len(data) % self.block:
            raise SecureMessagingError("secure messaging: encrypted data is not whole blocks")
        if self.cipher == "3DES":
            plain = crypto.tdes_cbc(self.ks_enc, data, decrypt=True, iv=self._iv())
        else:
            plain = crypto.aes_cbc(self.ks_enc, data, decrypt=True, iv=self._iv())
        return crypto.unpad(plain)

    # -- commands --
    def wrap(self, apdu: Apdu) -> Apdu:
        self.ssc += 1
        cla = apdu.cla | 0x0C
        header = crypto.pad(bytes([cla, apdu.ins, apdu.p1, apdu.p2]), self.block)
        objects = b""
        if apdu.data:
            enc = self._encrypt(apdu.data)
            if apdu.ins & 1:
                objects += tlv.encode(0x85, enc)
            else:
                objects += tlv.encode(0x87, b"\x01" + enc)
        long_le = apdu.extended or (apdu.le is not None and apdu.le > 256)
        if apdu.le is not None:
            if long_le:
                objects += tlv.encode(0x97, (apdu.le % 65536).to_bytes(2, "big"))
            else:
                objects += tlv.encode(0x97, bytes([apdu.le % 256]))
        mac = self._mac(header + objects)
        objects += tlv.encode(0x8E, mac)
        return Apdu(cla, apdu.ins, apdu.p1, apdu.p2, objects, le=65536 if long_le else 256,
                    extended=long_le)

    def unwrap(self, raw: bytes) -> tuple[bytes, int]:
        """Check and decrypt a protected response; returns (data, status word)."""
        body, outer_sw = split_response(raw)
        self.ssc += 1
        if not body:
            # the chip answered in plain: an error that ends secure messaging
            return b"", outer_sw
        items = tlv.parse_all(body)
        do87 = tlv.find(items, 0x87) or tlv.find(items, 0x85)
        do99 = tlv.find(items, 0x99)
        do8e = tlv.find(items, 0x8E)
        if do8e is None:
            raise SecureMessagingError("secure messaging: response without MAC (DO8E)")
        covered = b""
        for item in items:
            if item.tag in (0x85, 0x87, 0x99):
                covered += tlv.encode(item.tag, item.value)
        if self._mac(covered) != do8e.value:
            raise SecureMessagingError("secure messaging: response MAC does not verify")
        sw = int.from_bytes(do99.value, "big") if do99 is not None and len(do99.value) == 2 else outer_sw
        data = b""
        if do87 is not None:
            enc = do87.value[1:] if do87.tag == 0x87 else do87.value
            if do87.tag == 0x87 and (not do87.value or do87.value[0] != 0x01):
                raise SecureMessagingError("secure messaging: unknown padding indicator in DO87")
            data = self._decrypt(enc)
        return data, sw
