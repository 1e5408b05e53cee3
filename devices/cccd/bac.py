"""Basic Access Control (ICAO 9303 Part 11 §4.3): the terminal's side of the
key derivation and the mutual authentication. The CCCD still accepts BAC when
PACE is refused; the key comes from the MRZ (document number = last 9 ID
digits, date of birth, date of expiry)."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from devices.cccd import crypto
from devices.cccd.errors import WrongAccessKey
from devices.cccd.mrz import bac_key_seed_input
from devices.cccd.sm import SecureMessaging


def key_seed(document_number: str, birth_yymmdd: str, expiry_yymmdd: str) -> bytes:
    mrz_info = bac_key_seed_input(document_number, birth_yymmdd, expiry_yymmdd)
    return hashlib.sha1(mrz_info.encode("ascii")).digest()[:16]


def derive_keys(seed: bytes) -> tuple[bytes, bytes]:
    return crypto.kdf(seed, crypto.KDF_ENC), crypto.kdf(seed, crypto.KDF_MAC)


@dataclass
class BacTerminal:
    """Computes EXTERNAL AUTHENTICATE's data and checks the chip's answer.
    ``rnd_ifd`` and ``k_ifd`` are random unless a test fixes them."""

    k_enc: bytes = field(repr=False)
    k_mac: bytes = field(repr=False)
    rnd_ifd: bytes = field(default_factory=lambda: os.urandom(8), repr=False)
    k_ifd: bytes = field(default_factory=lambda: os.urandom(16), repr=False)

    @classmethod
    def from_mrz(cls, document_number: str, birth_yymmdd: str, expiry_yymmdd: str, **kw) -> "BacTerminal":
        k_enc, k_mac = derive_keys(key_seed(document_number, birth_yymmdd, expiry_yymmdd))
        return cls(k_enc, k_mac, **kw)

    def authenticate_data(self, rnd_ic: bytes) -> bytes:
        self.rnd_ic = rnd_ic
        s = self.rnd_ifd + rnd_ic + self.k_ifd
        e_ifd = crypto.tdes_cbc(self.k_enc, s)
        return e_ifd + crypto.retail_mac(self.k_mac, crypto.pad(e_ifd, 8))

    def finish(self, response: bytes) -> SecureMessaging:
        """Check the chip's cryptogram and derive the session keys."""
        if len(response) != 40:
            raise WrongAccessKey("BAC: EXTERNAL AUTHENTICATE answer has the wrong length")
        e_ic, m_ic = response[:32], response[32:]
        if crypto.retail_mac(self.k_mac, crypto.pad(e_ic, 8)) != m_ic:
            raise WrongAccessKey("BAC: chip cryptogram MAC does not verify")
        r = crypto.tdes_cbc(self.k_enc, e_ic, decrypt=True)
        if r[:8] != self.rnd_ic or r[8:16] != self.rnd_ifd:
            raise WrongAccessKey("BAC: chip did not return our challenge")
        k_ic = r[16:32]
        seed = bytes(a ^ b for a, b in zip(self.k_ifd, k_ic))
        ks_enc, ks_mac = derive_keys(seed)
        ssc = self.rnd_ic[-4:] + self.rnd_ifd[-4:]
        return SecureMessaging("3DES", ks_enc, ks_mac, ssc)
