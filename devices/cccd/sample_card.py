"""Sample CCCD chip contents for the simulator, the virtual test card and the
benchmark: the LDS files of a demo person (``assets/demo/hospital.json``),
with an EF.SOD signed by a document signer whose certificate is issued by a
CSCA generated here. Nothing in this module is used to read a real card.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from devices.cccd import lds
from devices.cccd.dg13 import encode_dg13
from devices.cccd.mrz import td1_for_cccd
from devices.cccd.sod import LDS_SECURITY_OBJECT_OID, DataGroupHash, DataGroupHashValues, LdsSecurityObject


def sample_photo(seed: str = "", size: tuple[int, int] = (240, 320), jpeg2000: bool = False) -> bytes:
    """A drawn stand-in portrait (no real face), about the size of a CCCD's DG2."""
    import io
    import random

    from PIL import Image, ImageDraw

    rnd = random.Random(seed)
    img = Image.new("RGB", size, (235, 238, 242))
    d = ImageDraw.Draw(img)
    w, h = size
    skin = (224 - rnd.randint(0, 40), 180 - rnd.randint(0, 40), 150 - rnd.randint(0, 30))
    d.ellipse((w * 0.25, h * 0.15, w * 0.75, h * 0.62), fill=skin)
    d.rectangle((w * 0.15, h * 0.68, w * 0.85, h), fill=(40 + rnd.randint(0, 60), 60, 110))
    d.pieslice((w * 0.22, h * 0.08, w * 0.78, h * 0.45), 180, 360, fill=(30, 25, 20))
    for _ in range(400):  # texture so the JPEG has a realistic size
        x, y = rnd.randrange(w), rnd.randrange(h)
        d.point((x, y), fill=tuple(rnd.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    img.save(out, "JPEG2000" if jpeg2000 else "JPEG", quality=90)
    return out.getvalue()


@dataclass
class Pki:
    csca_cert: x509.Certificate
    ds_cert: x509.Certificate
    ds_key: object = field(repr=False)  # EC or RSA private key

    def write_csca(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "csca.pem"
        path.write_bytes(self.csca_cert.public_bytes(serialization.Encoding.PEM))
        return path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Demo Kiosk Test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _new_key(kind: str):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.BrainpoolP256R1() if kind == "brainpool" else ec.SECP256R1())


def make_pki(label: str = "Demo CSCA", kind: str = "ec") -> Pki:
    """A fresh CSCA and document signer, valid around today. ``kind``: "ec"
    (ECDSA P-256), "brainpool" (ECDSA brainpoolP256r1) or "rsa" (RSA 2048)."""
    now = dt.datetime.now(dt.timezone.utc)
    csca_key = _new_key(kind)
    csca = (x509.CertificateBuilder().subject_name(_name(label)).issuer_name(_name(label))
            .public_key(csca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(csca_key, hashes.SHA256()))
    ds_key = _new_key(kind)
    ds = (x509.CertificateBuilder().subject_name(_name(label + " Document Signer")).issuer_name(csca.subject)
          .public_key(ds_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1825))
          .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
          .sign(csca_key, hashes.SHA256()))
    return Pki(csca, ds, ds_key)


def _sign(pki: Pki, data: bytes, hash_name: str, pss: bool) -> tuple[bytes, dict]:
    """Signature and its CMS algorithm identifier."""
    h = getattr(hashes, hash_name.upper())()
    if isinstance(pki.ds_key, rsa.RSAPrivateKey):
        if pss:
            sig = pki.ds_key.sign(data, padding.PSS(padding.MGF1(h), h.digest_size), h)
            params = {"hash_algorithm": {"algorithm": hash_name},
                      "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": hash_name}},
                      "salt_length": h.digest_size, "trailer_field": "trailer_field_bc"}
            return sig, {"algorithm": "rsassa_pss", "parameters": params}
        return pki.ds_key.sign(data, padding.PKCS1v15(), h), {"algorithm": f"{hash_name}_rsa"}
    return pki.ds_key.sign(data, ec.ECDSA(h)), {"algorithm": f"{hash_name}_ecdsa"}


def build_sod(groups: dict[int, bytes], pki: Pki, hash_name: str = "sha256", pss: bool = False) -> bytes:
    """EF.SOD: CMS SignedData over an LDSSecurityObject, signed by the document signer."""
    h = getattr(hashlib, hash_name)
    lds_so = LdsSecurityObject({
        "version": 0,
        "hashAlgorithm": {"algorithm": hash_name},
        "dataGroupHashValues": DataGroupHashValues(
            [DataGroupHash({"dataGroupNumber": n, "dataGroupHashValue": h(v).digest()}) for n, v in sorted(groups.items())]),
    }).dump()
    signed_attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": [cms.ContentType(LDS_SECURITY_OBJECT_OID)]}),
        cms.CMSAttribute({"type": "message_digest", "values": [h(lds_so).digest()]}),
    ])
    to_sign = signed_attrs.dump()  # a SET: what the signature covers
    signature, sig_algo = _sign(pki, to_sign, hash_name, pss)
    ds_asn1 = asn1_x509.Certificate.load(pki.ds_cert.public_bytes(serialization.Encoding.DER))
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": ds_asn1.issuer, "serial_number": ds_asn1.serial_number})}),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": hash_name}),
        "signed_attrs": signed_attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm(sig_algo),
        "signature": signature,
    })
    signed = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": hash_name})],
        "encap_content_info": {"content_type": LDS_SECURITY_OBJECT_OID,
                               "content": core.ParsableOctetString(lds_so)},
        "certificates": [ds_asn1],
        "signer_infos": [signer],
    })
    info = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
    return lds.tlv.encode(0x77, info)


def expiry_for(birth: dt.date, issue: dt.date) -> dt.date | None:
    """CCCD expiry: the birthday at 25, 40 or 60 (none after 60); a card issued
    within 2 years before one of those ages runs to the next one."""
    for age in (25, 40, 60):
        turning = _birthday(birth, birth.year + age)
        if issue < turning - dt.timedelta(days=730):
            return turning
        if issue < turning:
            continue
    return None


def _birthday(birth: dt.date, year: int) -> dt.date:
    try:
        return birth.replace(year=year)
    except ValueError:
        return birth.replace(year=year, day=28)


def _ascii_name(name: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in plain if not unicodedata.combining(c)).upper()


def person_files(person: dict, *, photo: bytes | None = None, parents: tuple[str, str] | None = None,
                 spouse: str | None = None) -> dict[str, bytes]:
    """LDS files (COM, DG1, DG2, DG13, CardAccess — no SOD yet) of a demo person."""
    birth = dt.date.fromisoformat(person["birth_date"])
    issue = dt.date.fromisoformat(person["issue_date"])
    expiry = expiry_for(birth, issue)
    words = _ascii_name(person["full_name"]).split()
    mrz = td1_for_cccd(person["citizen_id"], birth, "M" if person["sex"] == "Nam" else "F",
                       expiry or dt.date(2099, 12, 31), words[0], " ".join(words[1:]))
    values: dict[int, object] = {
        1: person["citizen_id"], 2: person["full_name"], 3: birth.strftime("%d/%m/%Y"), 4: person["sex"],
        5: "Việt Nam", 6: "Kinh", 7: "Không", 8: person["address"].split(", ")[-1],
        9: person["address"], 10: "Nốt ruồi C:2cm trên sau đầu mày phải", 11: issue.strftime("%d/%m/%Y"),
        12: expiry.strftime("%d/%m/%Y") if expiry else "Không thời hạn",
        13: list(parents or ("NGUYỄN VĂN BÌNH", "LÊ THỊ CÚC")),
    }
    if spouse:
        values[14] = [spouse]
    if person.get("old_id"):
        values[15] = person["old_id"]
    return {
        "CardAccess": lds.encode_card_access(),
        "COM": lds.encode_com(["DG1", "DG2", "DG13"]),
        "DG1": lds.encode_dg1(mrz),
        "DG2": lds.encode_dg2(photo if photo is not None else sample_photo(person["key"])),
        "DG13": encode_dg13(values),
    }


def sign_files(files: dict[str, bytes], pki: Pki) -> dict[str, bytes]:
    groups = {lds.dg_number(n): v for n, v in files.items() if n.startswith("DG")}
    return {**files, "SOD": build_sod(groups, pki)}


def write_card(folder: str | Path, files: dict[str, bytes]) -> Path:
    """One file per LDS file (``DG13.bin``…), the virtual card's input."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / f"{name}.bin").write_bytes(data)
    return folder
