"""EF.SOD and passive authentication (ICAO 9303 Part 11 §5.1, Part 12).

Passive authentication proves the data groups were written by the issuing
state: (1) each data group's hash equals the one in the SOD, (2) the document
signer's signature over the SOD verifies, (3) the document signer certificate
chains to a CSCA certificate from the configured trust-store folder.

The result is one of three states, never a boolean that could be misread:
``verified``, ``not_verifiable`` (no trust anchor configured) or ``failed``
with a reason. A failed check must never look like a verified identity.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from devices.cccd import tlv
from devices.cccd.errors import CardParseError

VERIFIED = "verified"
NOT_VERIFIABLE = "not_verifiable"
FAILED = "failed"

LDS_SECURITY_OBJECT_OID = "2.23.136.1.1.1"
_HASHES = {"sha1": hashlib.sha1, "sha224": hashlib.sha224, "sha256": hashlib.sha256,
           "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_CRYPTO_HASHES = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
                  "sha384": hashes.SHA384, "sha512": hashes.SHA512}


class DataGroupHash(core.Sequence):
    _fields = [("dataGroupNumber", core.Integer), ("dataGroupHashValue", core.OctetString)]


class DataGroupHashValues(core.SequenceOf):
    _child_spec = DataGroupHash


class LdsVersionInfo(core.Sequence):
    _fields = [("ldsVersion", core.PrintableString), ("unicodeVersion", core.PrintableString)]


class LdsSecurityObject(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("hashAlgorithm", cms.DigestAlgorithm),
        ("dataGroupHashValues", DataGroupHashValues),
        ("ldsVersionInfo", LdsVersionInfo, {"optional": True}),
    ]


@dataclass(frozen=True)
class Sod:
    hash_algorithm: str
    dg_hashes: dict[int, bytes]
    econtent: bytes  # the encapsulated LDSSecurityObject, as signed
    signer_certificate: bytes | None  # DER of the document signer certificate
    signed_attrs: bytes | None  # DER (as a SET) of the signed attributes
    message_digest: bytes | None
    signer_digest: str
    signature_algorithm: str
    signature: bytes
    pss_hash: str | None = None


def parse_sod(data: bytes) -> Sod:
    """Parse EF.SOD (tag 77 around a CMS ContentInfo). Raises CardParseError only."""
    outer = tlv.parse_one(data)
    if outer.tag != 0x77:
        raise CardParseError(f"EF.SOD: outer tag {outer.tag:X}, expected 77")
    try:
        return _parse_content_info(outer.value)
    except CardParseError:
        raise
    except Exception as exc:  # asn1crypto raises ValueError/TypeError/KeyError… on bad DER
        raise CardParseError(f"EF.SOD: not a valid CMS SignedData ({type(exc).__name__})") from None


def _parse_content_info(raw: bytes) -> Sod:
    info = cms.ContentInfo.load(raw, strict=True)
    if info["content_type"].native != "signed_data":
        raise CardParseError("EF.SOD: content is not SignedData")
    signed = info["content"]
    encap = signed["encap_content_info"]
    if encap["content_type"].dotted != LDS_SECURITY_OBJECT_OID:
        raise CardParseError("EF.SOD: encapsulated content is not an LDSSecurityObject")
    if encap["content"] is None or not isinstance(encap["content"], (core.OctetString, core.ParsableOctetString)):
        raise CardParseError("EF.SOD: no encapsulated content")
    econtent = bytes(encap["content"].contents)
    lds_so = LdsSecurityObject.load(econtent, strict=True)
    algo = lds_so["hashAlgorithm"]["algorithm"].native
    if algo not in _HASHES:
        raise CardParseError(f"EF.SOD: hash algorithm {algo} not supported")
    dg_hashes = {int(h["dataGroupNumber"].native): bytes(h["dataGroupHashValue"].native)
                 for h in lds_so["dataGroupHashValues"]}
    signers = signed["signer_infos"]
    if len(signers) != 1:
        raise CardParseError(f"EF.SOD: expected one signer, found {len(signers)}")
    signer = signers[0]
    certs = [c.chosen for c in signed["certificates"]] if signed["certificates"].native else []
    signer_cert = _signer_certificate(certs, signer["sid"])
    attrs = signer["signed_attrs"]
    signed_attrs = message_digest = None
    if attrs.native:
        signed_attrs = b"\x31" + attrs.dump()[1:]
        for attr in attrs:
            if attr["type"].native == "message_digest":
                message_digest = bytes(attr["values"][0].native)
    sig_algo = signer["signature_algorithm"]
    pss_hash = None
    if sig_algo["algorithm"].native == "rsassa_pss":
        pss_hash = sig_algo["parameters"]["hash_algorithm"]["algorithm"].native
    return Sod(
        hash_algorithm=algo,
        dg_hashes=dg_hashes,
        econtent=econtent,
        signer_certificate=signer_cert,
        signed_attrs=signed_attrs,
        message_digest=message_digest,
        signer_digest=signer["digest_algorithm"]["algorithm"].native,
        signature_algorithm=sig_algo.signature_algo,
        signature=bytes(signer["signature"].native),
        pss_hash=pss_hash,
    )


def _signer_certificate(certs: list, sid) -> bytes | None:
    """The certificate named by the SignerInfo's sid (issuer+serial or key id);
    the only certificate when the SOD carries just one."""
    for cert in certs:
        if not hasattr(cert, "issuer_serial"):
            continue
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if cert.issuer == ias["issuer"] and cert.serial_number == ias["serial_number"].native:
                return cert.dump()
        elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return cert.dump()
    return certs[0].dump() if len(certs) == 1 else None


@dataclass(frozen=True)
class PassiveAuthResult:
    status: str  # VERIFIED / NOT_VERIFIABLE / FAILED
    reason: str = ""  # technical, no personal data
    checked_groups: tuple[int, ...] = ()

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED

    def to_json(self) -> dict:
        return {"status": self.status, "reason": self.reason, "data_groups": list(self.checked_groups)}


def load_trust_store(folder: str | Path | None) -> list[x509.Certificate]:
    """CSCA certificates (PEM or DER, any file name) from ``folder``."""
    if not folder:
        return []
    path = Path(folder).expanduser()
    if not path.is_dir():
        return []
    certs = []
    for file in sorted(path.iterdir()):
        if not file.is_file():
            continue
        raw = file.read_bytes()
        try:
            if b"-----BEGIN CERTIFICATE-----" in raw:
                certs.extend(x509.load_pem_x509_certificates(raw))
            else:
                certs.append(x509.load_der_x509_certificate(raw))
        except (ValueError, x509.InvalidVersion):
            continue  # not a certificate: ignore (README, CRL…)
    return certs


def passive_authentication(sod: Sod, groups: dict[int, bytes], trust: list[x509.Certificate],
                           now: dt.datetime | None = None) -> PassiveAuthResult:
    checked = tuple(sorted(groups))
    # 1. data-group hashes
    for number, content in sorted(groups.items()):
        expected = sod.dg_hashes.get(number)
        if expected is None:
            return PassiveAuthResult(FAILED, f"DG{number} has no hash in EF.SOD", checked)
        if _HASHES[sod.hash_algorithm](content).digest() != expected:
            return PassiveAuthResult(FAILED, f"DG{number} does not match its hash in EF.SOD", checked)
    # 2. the document signer's signature
    if sod.signer_certificate is None:
        return PassiveAuthResult(FAILED, "EF.SOD carries no document signer certificate", checked)
    try:
        with warnings.catch_warnings():  # odd serial numbers etc. are judged below, not warned about
            warnings.simplefilter("ignore")
            ds = x509.load_der_x509_certificate(sod.signer_certificate)
    except (ValueError, x509.InvalidVersion):
        return PassiveAuthResult(FAILED, "document signer certificate is not valid DER", checked)
    reason = _verify_signature(sod, ds)
    if reason:
        return PassiveAuthResult(FAILED, reason, checked)
    # 3. the chain to a CSCA
    if not trust:
        return PassiveAuthResult(NOT_VERIFIABLE, "no CSCA trust anchor configured (card_reader.trust_store)", checked)
    now = now or dt.datetime.now(dt.timezone.utc)
    if not ds.not_valid_before_utc <= now <= ds.not_valid_after_utc:
        return PassiveAuthResult(FAILED, "document signer certificate is outside its validity period", checked)
    candidates = [c for c in trust if c.subject == ds.issuer]
    if not candidates:
        return PassiveAuthResult(FAILED, "no CSCA in the trust store issued this document signer", checked)
    for csca in candidates:
        try:
            ds.verify_directly_issued_by(csca)
            return PassiveAuthResult(VERIFIED, "", checked)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
    return PassiveAuthResult(FAILED, "document signer certificate signature does not verify with the CSCA", checked)


def _verify_signature(sod: Sod, ds: x509.Certificate) -> str:
    if sod.signer_digest not in _HASHES:
        return f"signer digest {sod.signer_digest} not supported"
    if sod.signed_attrs is None:
        signed_bytes = sod.econtent
    else:
        if sod.message_digest != _HASHES[sod.signer_digest](sod.econtent).digest():
            return "EF.SOD messageDigest does not match the security object"
        signed_bytes = sod.signed_attrs
    try:
        key = ds.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return "document signer public key cannot be used (unsupported or malformed)"
    hash_cls = _CRYPTO_HASHES[sod.signer_digest]
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if sod.pss_hash:
                h = _CRYPTO_HASHES[sod.pss_hash]()
                key.verify(sod.signature, signed_bytes,
                           padding.PSS(padding.MGF1(h), padding.PSS.AUTO), h)
            else:
                key.verify(sod.signature, signed_bytes, padding.PKCS1v15(), hash_cls())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sod.signature, signed_bytes, ec.ECDSA(hash_cls()))
        else:
            return "document signer key type not supported"
    except InvalidSignature:
        return "document signer signature over EF.SOD does not verify"
    except (ValueError, KeyError, TypeError, UnsupportedAlgorithm):
        return "document signer signature could not be checked"
    return ""
