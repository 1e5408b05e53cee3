"""The eMRTD logical data structure (ICAO 9303 Part 10): file identifiers,
EF.COM, DG1 (MRZ), DG2 (face image) and EF.CardAccess (which access-control
protocols the chip offers — parsed, never assumed)."""
from __future__ import annotations

from dataclasses import dataclass

from devices.cccd import tlv
from devices.cccd.errors import CardParseError
from devices.cccd.mrz import Mrz, parse_mrz

EMRTD_AID = bytes.fromhex("A0000002471001")

# name -> (file identifier, short file identifier, outer tag)
FILES: dict[str, tuple[int, int, int]] = {
    "COM": (0x011E, 0x1E, 0x60),
    "SOD": (0x011D, 0x1D, 0x77),
    "CardAccess": (0x011C, 0x1C, 0x31),
    **{f"DG{n}": (0x0100 + n, n, tag) for n, tag in enumerate(
        (0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70),
        start=1)},
}
TAG_TO_DG = {tag: name for name, (_, _, tag) in FILES.items() if name.startswith("DG")}


def dg_number(name: str) -> int:
    return int(name[2:])


@dataclass(frozen=True)
class Com:
    lds_version: str
    unicode_version: str
    data_groups: tuple[str, ...]  # e.g. ("DG1", "DG2", "DG13")


def parse_com(data: bytes) -> Com:
    outer = tlv.parse_one(data)
    if outer.tag != 0x60:
        raise CardParseError(f"EF.COM: outer tag {outer.tag:X}, expected 60")
    items = outer.children()
    tags = tlv.require(items, 0x5C, "EF.COM tag list").value
    groups = []
    for t in tags:
        if t not in TAG_TO_DG:
            continue  # an unknown tag is not a reason to refuse the card
        groups.append(TAG_TO_DG[t])
    version = tlv.find(items, 0x5F01)
    uni = tlv.find(items, 0x5F36)
    return Com(_ascii(version.value) if version else "", _ascii(uni.value) if uni else "", tuple(groups))


def encode_com(groups: list[str], lds_version: str = "0107", unicode_version: str = "040000") -> bytes:
    tags = bytes(FILES[g][2] for g in groups)
    return tlv.encode(0x60, tlv.encode(0x5F01, lds_version.encode()) + tlv.encode(0x5F36, unicode_version.encode())
                      + tlv.encode(0x5C, tags))


def _ascii(raw: bytes) -> str:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise CardParseError("text field is not ASCII") from None


def parse_dg1(data: bytes) -> Mrz:
    outer = tlv.parse_one(data)
    if outer.tag != 0x61:
        raise CardParseError(f"DG1: outer tag {outer.tag:X}, expected 61")
    mrz = tlv.require(outer.children(), 0x5F1F, "DG1 MRZ")
    return parse_mrz(_ascii(mrz.value))


def encode_dg1(mrz_text: str) -> bytes:
    return tlv.encode(0x61, tlv.encode(0x5F1F, "".join(mrz_text.split()).encode("ascii")))


# --- DG2 ------------------------------------------------------------------------

JPEG_SOI = b"\xff\xd8\xff"
JP2_SIGNATURE = bytes.fromhex("0000000C6A5020200D0A870A")
J2K_CODESTREAM = bytes.fromhex("FF4FFF51")


@dataclass(frozen=True)
class FaceImage:
    mime: str  # image/jpeg or image/jp2
    data: bytes


def parse_dg2(data: bytes) -> FaceImage:
    """The first face image of DG2 (ISO 19794-5 record inside 5F2E/7F2E)."""
    outer = tlv.parse_one(data)
    if outer.tag != 0x75:
        raise CardParseError(f"DG2: outer tag {outer.tag:X}, expected 75")
    block = _find_deep(outer.children(), (0x5F2E, 0x7F2E), 0)
    if block is None:
        raise CardParseError("DG2: no biometric data block (5F2E/7F2E)")
    raw = block.value
    for signature, mime in ((JPEG_SOI, "image/jpeg"), (JP2_SIGNATURE, "image/jp2"), (J2K_CODESTREAM, "image/jp2")):
        at = raw.find(signature)
        if at >= 0:
            return FaceImage(mime, raw[at:])
    raise CardParseError("DG2: image is neither JPEG nor JPEG 2000")


def _find_deep(items: list[tlv.Tlv], tags: tuple[int, ...], depth: int) -> tlv.Tlv | None:
    if depth > 5:
        return None
    for item in items:
        if item.tag in tags:
            return item
        if item.constructed:
            found = _find_deep(item.children(), tags, depth + 1)
            if found is not None:
                return found
    return None


def encode_dg2(image: bytes) -> bytes:
    """A minimal ISO 19794-5 wrapper around one image (sample cards)."""
    jp2 = image.startswith(JP2_SIGNATURE) or image.startswith(J2K_CODESTREAM)
    facial_header = b"FAC\x00" + b"010\x00" + (14 + 20 + 12 + len(image)).to_bytes(4, "big") + b"\x00\x01"
    info = (20 + 12 + len(image)).to_bytes(4, "big") + b"\x00\x00" + b"\x00" * 14
    image_info = bytes([1, 1 if jp2 else 0]) + b"\x00" * 10
    record = facial_header + info + image_info + image
    header = tlv.encode(0xA1, tlv.encode(0x80, b"\x01\x01") + tlv.encode(0x87, b"\x01\x01") + tlv.encode(0x88, b"\x00\x08"))
    inst = tlv.encode(0x7F60, header + tlv.encode(0x5F2E, record))
    return tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x02, b"\x01") + inst))


# --- EF.CardAccess --------------------------------------------------------------

PACE_PREFIX = "0.4.0.127.0.7.2.2.4"
PACE_ECDH_GM = {  # OID -> (cipher, key length in bytes)
    f"{PACE_PREFIX}.2.1": ("3DES", 16),
    f"{PACE_PREFIX}.2.2": ("AES", 16),
    f"{PACE_PREFIX}.2.3": ("AES", 24),
    f"{PACE_PREFIX}.2.4": ("AES", 32),
}


@dataclass(frozen=True)
class PaceInfo:
    protocol: str  # dotted OID
    version: int
    parameter_id: int | None

    @property
    def supported(self) -> bool:
        """ECDH generic mapping with AES is what this reader implements."""
        return self.protocol in PACE_ECDH_GM and PACE_ECDH_GM[self.protocol][0] == "AES"


@dataclass(frozen=True)
class CardAccess:
    pace: tuple[PaceInfo, ...]
    other_protocols: tuple[str, ...]  # chip/terminal authentication OIDs seen

    def best_pace(self) -> PaceInfo | None:
        usable = [p for p in self.pace if p.supported and p.version == 2]
        return usable[0] if usable else None


def decode_oid(raw: bytes) -> str:
    if not raw:
        raise CardParseError("empty OID")
    parts, value = [], 0
    for b in raw:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    if raw[-1] & 0x80:
        raise CardParseError("OID truncated")
    first = parts[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(p) for p in head + parts[1:])


def encode_oid(dotted: str) -> bytes:
    return tlv.encode(0x06, tlv.oid_body(dotted))


def _int(item: tlv.Tlv) -> int:
    if item.tag != 0x02 or not 1 <= len(item.value) <= 4:
        raise CardParseError("EF.CardAccess: INTEGER expected")
    return int.from_bytes(item.value, "big")


def parse_card_access(data: bytes) -> CardAccess:
    outer = tlv.parse_one(data)
    if outer.tag != 0x31:
        raise CardParseError(f"EF.CardAccess: outer tag {outer.tag:X}, expected 31 (SET)")
    pace, other = [], []
    for info in outer.children():
        if info.tag != 0x30:
            continue
        parts = info.children()
        if not parts or parts[0].tag != 0x06:
            raise CardParseError("EF.CardAccess: SecurityInfo without protocol OID")
        oid = decode_oid(parts[0].value)
        if oid.startswith(PACE_PREFIX + ".") and len(parts) >= 2 and parts[1].tag == 0x02:
            param = _int(parts[2]) if len(parts) >= 3 and parts[2].tag == 0x02 else None
            pace.append(PaceInfo(oid, _int(parts[1]), param))
        else:
            other.append(oid)
    return CardAccess(tuple(pace), tuple(other))


def encode_card_access(pace_oid: str = f"{PACE_PREFIX}.2.2", parameter_id: int = 13,
                       extra_oids: tuple[str, ...] = ("0.4.0.127.0.7.2.2.3.2.1",)) -> bytes:
    infos = tlv.encode(0x30, encode_oid(pace_oid) + tlv.encode(0x02, b"\x02") + tlv.encode(0x02, bytes([parameter_id])))
    for oid in extra_oids:
        infos += tlv.encode(0x30, encode_oid(oid) + tlv.encode(0x02, b"\x01"))
    return tlv.encode(0x31, infos)
