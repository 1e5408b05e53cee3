"""BER-TLV as ICAO 9303 uses it: multi-byte tags, definite lengths only.

Every chip file (EF.COM, DG1, DG13, EF.SOD…) and every secure-messaging data
object is a TLV. Malformed input raises ``CardParseError`` — never IndexError —
because a card, a bad read or a fuzzer can hand us anything.
"""
from __future__ import annotations

from dataclasses import dataclass

from devices.cccd.errors import CardParseError


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes
    constructed: bool
    end: int  # offset just after this TLV in the buffer it came from

    def children(self) -> list["Tlv"]:
        if not self.constructed:
            raise CardParseError(f"TLV tag {self.tag:X} is primitive, it has no children")
        return parse_all(self.value)


def read_tag(data: bytes, pos: int) -> tuple[int, bool, int]:
    """(tag, constructed, next position)."""
    if pos >= len(data):
        raise CardParseError("TLV truncated: tag expected")
    first = data[pos]
    constructed = bool(first & 0x20)
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                raise CardParseError("TLV truncated inside a multi-byte tag")
            b = data[pos]
            tag = (tag << 8) | b
            pos += 1
            if not b & 0x80:
                break
            if tag > 0xFFFFFF:
                raise CardParseError("TLV tag longer than 3 bytes")
    return tag, constructed, pos


def read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise CardParseError("TLV truncated: length expected")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0 or count > 4:
        raise CardParseError(f"TLV length form 0x{first:02X} not supported")
    if pos + count > len(data):
        raise CardParseError("TLV truncated inside a length")
    return int.from_bytes(data[pos:pos + count], "big"), pos + count


def parse_one(data: bytes, pos: int = 0) -> Tlv:
    data = bytes(data)
    tag, constructed, pos = read_tag(data, pos)
    length, pos = read_length(data, pos)
    end = pos + length
    if end > len(data):
        raise CardParseError(f"TLV tag {tag:X} announces {length} bytes, only {len(data) - pos} present")
    return Tlv(tag, data[pos:end], constructed, end)


def parse_all(data: bytes) -> list[Tlv]:
    """All TLVs one after the other, filling ``data`` exactly (padding 00/FF
    between objects is skipped, as some cards pad files)."""
    data = bytes(data)
    out, pos = [], 0
    while pos < len(data):
        if data[pos] in (0x00, 0xFF):
            pos += 1
            continue
        tlv = parse_one(data, pos)
        out.append(tlv)
        pos = tlv.end
    return out


def header_size(data: bytes) -> int | None:
    """Total size (header + value) of the TLV starting ``data``, or None when
    ``data`` is too short to tell. Used to learn a file's length from its first bytes."""
    try:
        _, _, pos = read_tag(data, 0)
        length, pos = read_length(data, pos)
    except CardParseError:
        if len(data) >= 6:
            raise
        return None
    return pos + length


def find(tlvs: list[Tlv], tag: int) -> Tlv | None:
    return next((t for t in tlvs if t.tag == tag), None)


def require(tlvs: list[Tlv], tag: int, what: str) -> Tlv:
    found = find(tlvs, tag)
    if found is None:
        raise CardParseError(f"{what}: tag {tag:X} missing")
    return found


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode_tag(tag: int) -> bytes:
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode(tag: int, value: bytes) -> bytes:
    value = bytes(value)
    return encode_tag(tag) + encode_length(len(value)) + value


def oid_body(dotted: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER ("2.16.704…" -> bytes)."""
    parts = [int(p) for p in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        body += bytes(reversed(chunk))
    return body
