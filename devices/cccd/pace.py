"""PACE v2 with ECDH generic mapping (ICAO 9303 Part 11 §4.4), terminal side.

The CCCD announces id-PACE-ECDH-GM-AES-CBC-CMAC-128 on brainpoolP256r1
(standard parameter 13) and the password is the CAN = last 6 ID digits.
Point arithmetic uses the maintained ``ecdsa`` library (the mapping needs
s·G + H, which ``cryptography`` does not expose); symmetric parts use
``cryptography`` via :mod:`.crypto`.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from ecdsa import curves
from ecdsa.ellipticcurve import PointJacobi

from devices.cccd import crypto, tlv
from devices.cccd.errors import CardParseError, WrongAccessKey
from devices.cccd.lds import PACE_ECDH_GM, encode_oid
from devices.cccd.mrz import bac_key_seed_input
from devices.cccd.sm import SecureMessaging

# Standardized domain parameters (Part 11 §9.5.1) that ecdsa knows.
CURVES = {
    8: curves.NIST192p, 9: curves.BRAINPOOLP192r1, 10: curves.NIST224p, 11: curves.BRAINPOOLP224r1,
    12: curves.NIST256p, 13: curves.BRAINPOOLP256r1, 14: curves.BRAINPOOLP320r1,
    15: curves.NIST384p, 16: curves.BRAINPOOLP384r1, 17: curves.BRAINPOOLP512r1, 18: curves.NIST521p,
}

PASSWORD_MRZ, PASSWORD_CAN = 1, 2


def password_key(password: bytes, cipher: str, key_len: int) -> bytes:
    """K_pi = KDF_pi(f(pi))."""
    return crypto.kdf(password, crypto.KDF_PACE, cipher, key_len)


def can_password(can: str) -> bytes:
    return can.encode("latin-1")


def mrz_password(document_number: str, birth_yymmdd: str, expiry_yymmdd: str) -> bytes:
    return hashlib.sha1(bac_key_seed_input(document_number, birth_yymmdd, expiry_yymmdd).encode()).digest()


def encode_point(curve, point) -> bytes:
    size = curve.baselen
    return b"\x04" + point.x().to_bytes(size, "big") + point.y().to_bytes(size, "big")


def decode_point(curve, raw: bytes) -> PointJacobi:
    size = curve.baselen
    if len(raw) != 1 + 2 * size or raw[0] != 0x04:
        raise CardParseError("PACE: public key is not an uncompressed point of the right size")
    x, y = int.from_bytes(raw[1:1 + size], "big"), int.from_bytes(raw[1 + size:], "big")
    if not curve.curve.contains_point(x, y):
        raise WrongAccessKey("PACE: chip public key is not on the curve")
    return PointJacobi(curve.curve, x, y, 1, curve.order)


def dynamic_data(tag: int, value: bytes) -> bytes:
    """General Authenticate's 7C template."""
    return tlv.encode(0x7C, tlv.encode(tag, value) if tag else value)


def parse_dynamic(data: bytes, tag: int) -> bytes:
    outer = tlv.parse_one(data)
    if outer.tag != 0x7C:
        raise CardParseError("PACE: General Authenticate answer without 7C template")
    return tlv.require(outer.children(), tag, "PACE General Authenticate").value


@dataclass
class PaceTerminal:
    """The terminal's computations for one PACE run. Random keys unless a test
    passes them (the ICAO worked example)."""

    protocol: str  # dotted OID from EF.CardAccess
    parameter_id: int
    password: bytes = field(repr=False)
    sk_map: int | None = field(default=None, repr=False)
    sk_dh: int | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.protocol not in PACE_ECDH_GM or PACE_ECDH_GM[self.protocol][0] != "AES":
            raise CardParseError(f"PACE: protocol {self.protocol} not supported (ECDH-GM with AES only)")
        if self.parameter_id not in CURVES:
            raise CardParseError(f"PACE: domain parameter {self.parameter_id} not supported")
        self.cipher, self.key_len = PACE_ECDH_GM[self.protocol]
        self.curve = CURVES[self.parameter_id]
        order = self.curve.order
        self.sk_map = self.sk_map or secrets.randbelow(order - 1) + 1
        self.sk_dh = self.sk_dh or secrets.randbelow(order - 1) + 1
        self.k_pi = password_key(self.password, self.cipher, self.key_len)

    def oid_bytes(self) -> bytes:
        return encode_oid(self.protocol)  # full TLV 06 len value

    def mse_set_at_data(self, password_ref: int) -> bytes:
        return tlv.encode(0x80, self.oid_bytes()[2:]) + tlv.encode(0x83, bytes([password_ref]))

    def decrypt_nonce(self, encrypted: bytes) -> bytes:
        if not encrypted or len(encrypted) % 16:
            raise CardParseError("PACE: encrypted nonce has a bad length")
        self.nonce = crypto.aes_cbc(self.k_pi, encrypted, decrypt=True)
        return self.nonce

    def mapping_public(self) -> bytes:
        return encode_point(self.curve, self.curve.generator * self.sk_map)

    def map_generator(self, chip_mapping_public: bytes) -> PointJacobi:
        pk = decode_point(self.curve, chip_mapping_public)
        self.shared_h = pk * self.sk_map
        s = int.from_bytes(self.nonce, "big")
        self.generator = self.curve.generator * s + self.shared_h
        return self.generator

    def ephemeral_public(self) -> bytes:
        self.pk_dh = encode_point(self.curve, self.generator * self.sk_dh)
        return self.pk_dh

    def agree(self, chip_ephemeral_public: bytes) -> tuple[bytes, bytes]:
        if chip_ephemeral_public == self.pk_dh:
            raise WrongAccessKey("PACE: chip echoed our ephemeral key")
        pk = decode_point(self.curve, chip_ephemeral_public)
        self.pk_dh_ic = chip_ephemeral_public
        shared = (pk * self.sk_dh).x().to_bytes(self.curve.baselen, "big")
        self.shared_k = shared
        self.ks_enc = crypto.kdf(shared, crypto.KDF_ENC, self.cipher, self.key_len)
        self.ks_mac = crypto.kdf(shared, crypto.KDF_MAC, self.cipher, self.key_len)
        return self.ks_enc, self.ks_mac

    def token(self, public: bytes) -> bytes:
        data = tlv.encode(0x7F49, self.oid_bytes() + tlv.encode(0x86, public))
        return crypto.aes_cmac(self.ks_mac, data)

    def terminal_token(self) -> bytes:
        return self.token(self.pk_dh_ic)

    def check_chip_token(self, t_ic: bytes) -> SecureMessaging:
        if self.token(self.pk_dh) != t_ic:
            raise WrongAccessKey("PACE: chip authentication token does not verify")
        return SecureMessaging("AES", self.ks_enc, self.ks_mac, b"\x00" * 16)
