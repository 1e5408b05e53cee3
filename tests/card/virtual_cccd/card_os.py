"""The virtual CCCD chip's operating system, on the ``virtualsmartcard``
library's ``SmartcardOS``: PACE (ECDH-GM, AES-128), BAC, secure messaging
(3DES and AES, short and extended length) and the LDS files.

Written independently of the reader under test (its ciphers and MACs come
from pycryptodome, its protocol code is its own) so that a shared mistake
cannot make both sides agree. ``card.py`` connects it to vpcd.
"""
from __future__ import annotations

import hashlib
import os

from Crypto.Cipher import AES, DES, DES3
from Crypto.Hash import CMAC
from ecdsa import curves
from ecdsa.ellipticcurve import PointJacobi
from virtualsmartcard.utils import C_APDU
from virtualsmartcard.VirtualSmartcard import SmartcardOS

AID = bytes.fromhex("A0000002471001")
SFI = {0x1C: "CardAccess", 0x1E: "COM", 0x1D: "SOD", **{n: f"DG{n}" for n in range(1, 17)}}
FID = {0x011C: "CardAccess", 0x011E: "COM", 0x011D: "SOD", **{0x0100 + n: f"DG{n}" for n in range(1, 17)}}
PACE_AES128 = bytes.fromhex("04007F00070202040202")
CURVES = {12: curves.NIST256p, 13: curves.BRAINPOOLP256r1}

OK = b"\x90\x00"


def sw(value: int) -> bytes:
    return value.to_bytes(2, "big")


def tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    elif n < 0x10000:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    else:
        length = bytes([0x83]) + n.to_bytes(3, "big")
    return tag.to_bytes(1 if tag < 0x100 else 2, "big") + length + value


def parse_tlvs(data: bytes) -> dict[int, bytes]:
    out, pos = {}, 0
    while pos < len(data):
        tag = data[pos]
        pos += 1
        if tag & 0x1F == 0x1F:
            tag = (tag << 8) | data[pos]
            pos += 1
        n = data[pos]
        pos += 1
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[pos:pos + k], "big")
            pos += k
        out[tag] = data[pos:pos + n]
        pos += n
    return out


def pad(data: bytes, block: int) -> bytes:
    data += b"\x80"
    return data + b"\x00" * (-len(data) % block)


def unpad(data: bytes) -> bytes:
    return data.rstrip(b"\x00")[:-1]


def kdf(secret: bytes, counter: int, aes: bool) -> bytes:
    key = hashlib.sha1(secret + counter.to_bytes(4, "big")).digest()[:16]
    if aes:
        return key
    return bytes((b & 0xFE) | ((bin(b & 0xFE).count("1") + 1) & 1) for b in key)


def retail_mac(key: bytes, data: bytes) -> bytes:
    des1 = DES.new(key[:8], DES.MODE_CBC, iv=b"\x00" * 8)
    h = des1.encrypt(data)[-8:]
    h = DES.new(key[8:16], DES.MODE_ECB).decrypt(h)
    return DES.new(key[:8], DES.MODE_ECB).encrypt(h)


def aes_cmac(key: bytes, data: bytes) -> bytes:
    return CMAC.new(key, msg=data, ciphermod=AES).digest()[:8]


class Sm:
    """Card-side secure messaging."""

    def __init__(self, aes: bool, k_enc: bytes, k_mac: bytes, ssc: int):
        self.aes, self.k_enc, self.k_mac, self.ssc = aes, k_enc, k_mac, ssc
        self.block = 16 if aes else 8

    def _ssc(self) -> bytes:
        return self.ssc.to_bytes(self.block, "big")

    def mac(self, data: bytes) -> bytes:
        msg = pad(self._ssc() + data, self.block)
        return aes_cmac(self.k_mac, msg) if self.aes else retail_mac(self.k_mac, msg)

    def _cipher(self):
        if self.aes:
            iv = AES.new(self.k_enc, AES.MODE_ECB).encrypt(self._ssc())
            return AES.new(self.k_enc, AES.MODE_CBC, iv=iv)
        return DES3.new(self.k_enc, DES3.MODE_CBC, iv=b"\x00" * 8)

    def unwrap(self, apdu: C_APDU) -> tuple[bytes, int | None]:
        """Returns (plain data, Le) or raises ValueError on a bad MAC."""
        self.ssc += 1
        objs = parse_tlvs(apdu.data)
        header = pad(bytes([apdu.cla, apdu.ins, apdu.p1, apdu.p2]), self.block)
        covered = b"".join(tlv(t, objs[t]) for t in (0x85, 0x87, 0x97) if t in objs)
        if 0x8E not in objs or self.mac(header + covered) != objs[0x8E]:
            raise ValueError("bad MAC")
        data = b""
        if 0x87 in objs:
            data = unpad(self._cipher().decrypt(objs[0x87][1:]))
        le = None
        if 0x97 in objs:
            le = int.from_bytes(objs[0x97], "big") or (65536 if len(objs[0x97]) == 2 else 256)
        return data, le

    def wrap(self, data: bytes, status: bytes) -> bytes:
        self.ssc += 1
        body = b""
        if data:
            body += tlv(0x87, b"\x01" + self._cipher().encrypt(pad(data, self.block)))
        body += tlv(0x99, status)
        return body + tlv(0x8E, self.mac(body)) + status


class CccdOS(SmartcardOS):
    def __init__(self, files: dict[str, bytes], can: str, mrz_info: str | None, *, allow_pace=True,
                 allow_bac=True, extended=True, max_response=65536, parameter_id=13, emrtd=True):
        self.files, self.can, self.mrz_info = (files if emrtd else {}), can, mrz_info
        self.emrtd = emrtd
        self.allow_pace, self.allow_bac, self.extended = allow_pace, allow_bac, extended
        self.max_response = max_response
        self.curve = CURVES[parameter_id]
        self.reset()

    def getATR(self) -> bytes:
        hist = bytes([0x80, 0x73, 0x00, 0x00, 0xC0 if self.extended else 0x80])
        body = bytes([0x80 | len(hist), 0x80, 0x01]) + hist
        tck = 0
        for b in body:
            tck ^= b
        return b"\x3B" + body + bytes([tck])

    def reset(self):
        self.sm: Sm | None = None
        self.pending_sm: Sm | None = None
        self.app = False
        self.current: str | None = None
        self.pace: dict | None = None
        self.rnd_ic: bytes | None = None

    def powerUp(self):
        self.reset()

    def powerDown(self):
        self.reset()

    # -- dispatch --
    def execute(self, msg: bytes) -> bytes:
        try:
            apdu = C_APDU(msg)
        except Exception:
            return sw(0x6700)
        if len(msg) > 5 and msg[4] == 0 and not self.extended:
            return sw(0x6700)
        protected = apdu.cla & 0x0C == 0x0C
        if self.sm and not protected:
            self.sm = None  # a plain command ends secure messaging
            self.app = False
        if protected:
            if not self.sm:
                return sw(0x6882)
            try:
                data, le = self.sm.unwrap(apdu)
            except ValueError:
                self.sm = None
                return sw(0x6988)
            body, status = self.dispatch(apdu.ins, apdu.p1, apdu.p2, data, le)
            if self.sm is None:
                return status
            return self.sm.wrap(body, status)
        le = apdu.effective_Le if hasattr(apdu, "_Le") else None
        body, status = self.dispatch(apdu.ins, apdu.p1, apdu.p2, apdu.data, le)
        if self.pending_sm is not None:  # BAC: the answer goes out plain, then SM starts
            self.sm, self.pending_sm = self.pending_sm, None
        return body + status

    def dispatch(self, ins, p1, p2, data, le):
        handler = {0xA4: self.select, 0xB0: self.read_binary, 0x22: self.mse, 0x86: self.general_authenticate,
                   0x84: self.get_challenge, 0x82: self.external_authenticate}.get(ins)
        if handler is None:
            return b"", sw(0x6D00)
        return handler(p1, p2, data, le)

    # -- files --
    def select(self, p1, p2, data, le):
        if p1 == 0x04:
            if data == AID and self.emrtd:
                self.app = True
                return b"", OK
            return b"", sw(0x6A82)
        if p1 in (0x00, 0x02) and len(data) == 2:
            name = FID.get(int.from_bytes(data, "big"))
            if name in self.files and (name == "CardAccess" or self.app):
                self.current = name
                return b"", OK
            return b"", sw(0x6A82)
        return b"", sw(0x6A86)

    def read_binary(self, p1, p2, data, le):
        if p1 & 0x80:
            name = SFI.get(p1 & 0x1F)
            offset = p2
        else:
            name = self.current
            offset = (p1 << 8) | p2
        if name is None or name not in self.files:
            return b"", sw(0x6A82)
        if name != "CardAccess" and not (self.sm and self.app):
            return b"", sw(0x6982)
        self.current = name
        content = self.files[name]
        le = le or 256
        if le > self.max_response:
            return b"", sw(0x6700)
        if offset >= len(content):
            return b"", sw(0x6B00)
        chunk = content[offset:offset + le]
        return chunk, (OK if len(chunk) == le else sw(0x6282))

    # -- PACE --
    def mse(self, p1, p2, data, le):
        if (p1, p2) != (0xC1, 0xA4) or not self.allow_pace or not self.emrtd:
            return b"", sw(0x6A80 if self.allow_pace else 0x6982)
        objs = parse_tlvs(data)
        if objs.get(0x80) != PACE_AES128 or objs.get(0x83) not in (b"\x01", b"\x02"):
            return b"", sw(0x6A80)
        if objs[0x83] == b"\x02":
            password = self.can.encode()
        elif self.mrz_info:
            password = hashlib.sha1(self.mrz_info.encode()).digest()
        else:
            return b"", sw(0x6A88)
        self.pace = {"step": 1, "k_pi": kdf(password, 3, True)}
        self.sm = None
        return b"", OK

    def general_authenticate(self, p1, p2, data, le):
        st = self.pace
        if st is None:
            return b"", sw(0x6985)
        objs = parse_tlvs(parse_tlvs(data).get(0x7C, b""))
        c = self.curve
        size = c.baselen

        def point(raw):
            x, y = int.from_bytes(raw[1:1 + size], "big"), int.from_bytes(raw[1 + size:], "big")
            if raw[:1] != b"\x04" or not c.curve.contains_point(x, y):
                raise ValueError
            return PointJacobi(c.curve, x, y, 1, c.order)

        def enc(p):
            return b"\x04" + p.x().to_bytes(size, "big") + p.y().to_bytes(size, "big")

        try:
            if st["step"] == 1:
                st["s"] = os.urandom(16)
                z = AES.new(st["k_pi"], AES.MODE_ECB).encrypt(st["s"])
                st["step"] = 2
                return tlv(0x7C, tlv(0x80, z)), OK
            if st["step"] == 2:
                sk = int.from_bytes(os.urandom(size), "big") % (c.order - 1) + 1
                h = point(objs[0x81]) * sk
                st["g"] = c.generator * int.from_bytes(st["s"], "big") + h
                st["step"] = 3
                return tlv(0x7C, tlv(0x82, enc(c.generator * sk))), OK
            if st["step"] == 3:
                st["pk_ifd"] = objs[0x83]
                sk = int.from_bytes(os.urandom(size), "big") % (c.order - 1) + 1
                st["pk_ic"] = enc(st["g"] * sk)
                shared = (point(objs[0x83]) * sk).x().to_bytes(size, "big")
                st["k_enc"], st["k_mac"] = kdf(shared, 1, True), kdf(shared, 2, True)
                st["step"] = 4
                return tlv(0x7C, tlv(0x84, st["pk_ic"])), OK
            if st["step"] == 4:
                def token(pk):
                    return aes_cmac(st["k_mac"], tlv(0x7F49, tlv(0x06, PACE_AES128) + tlv(0x86, pk)))
                self.pace = None
                if objs.get(0x85) != token(st["pk_ic"]):
                    return b"", sw(0x6300)
                t_ic = token(st["pk_ifd"])
                self.sm = Sm(True, st["k_enc"], st["k_mac"], 0)
                self.app = False
                return tlv(0x7C, tlv(0x86, t_ic)), OK
        except (KeyError, ValueError):
            self.pace = None
            return b"", sw(0x6A80)
        return b"", sw(0x6985)

    # -- BAC --
    def get_challenge(self, p1, p2, data, le):
        self.rnd_ic = os.urandom(8)
        return self.rnd_ic, OK

    def external_authenticate(self, p1, p2, data, le):
        if not self.allow_bac or not self.mrz_info or self.rnd_ic is None or not self.app:
            return b"", sw(0x6982)
        seed = hashlib.sha1(self.mrz_info.encode()).digest()[:16]
        k_enc, k_mac = kdf(seed, 1, False), kdf(seed, 2, False)
        if len(data) != 40 or retail_mac(k_mac, pad(data[:32], 8)) != data[32:]:
            return b"", sw(0x6300)
        s = DES3.new(k_enc, DES3.MODE_CBC, iv=b"\x00" * 8).decrypt(data[:32])
        if s[8:16] != self.rnd_ic:
            return b"", sw(0x6300)
        rnd_ifd, k_ifd = s[:8], s[16:]
        k_ic = os.urandom(16)
        r = self.rnd_ic + rnd_ifd + k_ic
        e_ic = DES3.new(k_enc, DES3.MODE_CBC, iv=b"\x00" * 8).encrypt(r)
        answer = e_ic + retail_mac(k_mac, pad(e_ic, 8))
        ks = bytes(a ^ b for a, b in zip(k_ifd, k_ic))
        self.pending_sm = Sm(False, kdf(ks, 1, False), kdf(ks, 2, False),
                             int.from_bytes(self.rnd_ic[-4:] + rnd_ifd[-4:], "big"))
        self.rnd_ic = None
        return answer, OK


