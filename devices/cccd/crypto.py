"""Symmetric building blocks of ICAO 9303 Part 11, on the ``cryptography`` library
(no hand-written block ciphers): key derivation, 3DES/AES encryption with the
ISO 9797-1 padding, retail MAC (3DES) and CMAC (AES)."""
from __future__ import annotations

import hashlib

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from devices.cccd.errors import SecureMessagingError

KDF_ENC, KDF_MAC, KDF_PACE = 1, 2, 3


def adjust_des_parity(key: bytes) -> bytes:
    out = bytearray()
    for b in key:
        b &= 0xFE
        out.append(b | (bin(b).count("1") + 1) % 2)
    return bytes(out)


def kdf(shared: bytes, counter: int, cipher: str = "3DES", key_len: int = 16) -> bytes:
    """Part 11 §9.7.1: KDF(K, c) with SHA-1 (3DES, AES-128) or SHA-256 (AES-192/256)."""
    data = shared + counter.to_bytes(4, "big")
    if cipher == "3DES":
        return adjust_des_parity(hashlib.sha1(data).digest()[:16])
    digest = hashlib.sha1(data).digest() if key_len == 16 else hashlib.sha256(data).digest()
    return digest[:key_len]


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 0x80 then zeros up to the block size."""
    data = data + b"\x80"
    return data + b"\x00" * (-len(data) % block)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise SecureMessagingError("secure messaging: bad padding in decrypted data")
    return stripped[:-1]


def _tdes_key(key: bytes) -> bytes:
    return key + key[:8] if len(key) == 16 else key


def tdes_cbc(key: bytes, data: bytes, *, decrypt: bool = False, iv: bytes = b"\x00" * 8) -> bytes:
    cipher = Cipher(TripleDES(_tdes_key(key)), modes.CBC(iv))
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def aes_cbc(key: bytes, data: bytes, *, decrypt: bool = False, iv: bytes = b"\x00" * 16) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def aes_ecb(key: bytes, block: bytes) -> bytes:
    ctx = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return ctx.update(block) + ctx.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES (data already padded): single-DES
    CBC with K1 over the message, then the last block through 3DES (K1, K2)."""
    if len(data) % 8:
        raise SecureMessagingError("retail MAC: data not padded")
    k1 = key[:8]
    h = b"\x00" * 8
    if len(data) > 8:
        # CBC with K1 only = 3DES with K1|K1|K1 (EDE collapses to single DES)
        h = tdes_cbc(k1 * 3, data[:-8])[-8:]
    last = bytes(a ^ b for a, b in zip(h, data[-8:]))
    return tdes_cbc(key, last)[-8:]


def aes_cmac(key: bytes, data: bytes, length: int = 8) -> bytes:
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()[:length]
