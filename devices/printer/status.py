"""Reading the printer's real-time status replies (ESC/POS ``DLE EOT n``).

python-escpos 3.1 reads an empty reply to the paper query as "paper OK" and
an empty online reply as "offline". A kiosk must not tell staff the printer is
fine when it said nothing, so the raw bytes are interpreted here instead, and
anything that is not a well-formed status byte is ``PRINTER_UNKNOWN``.

Status byte layout (Epson ESC/POS, the same on the common clones): bit 1 and
bit 4 are always 1, bit 0 and bit 7 always 0.
- ``DLE EOT 1`` (printer status): bit 3 = offline.
- ``DLE EOT 4`` (roll paper sensor): bits 2-3 = near end, bits 5-6 = paper out.
"""
from __future__ import annotations

from kiosk.ports import (
    PRINTER_OFFLINE,
    PRINTER_OK,
    PRINTER_PAPER_LOW,
    PRINTER_PAPER_OUT,
    PRINTER_UNKNOWN,
)

ONLINE_QUERY = b"\x10\x04\x01"  # DLE EOT 1
PAPER_QUERY = b"\x10\x04\x04"  # DLE EOT 4

_FIXED_MASK = 0x93  # bits 0, 1, 4, 7
_FIXED_VALUE = 0x12  # bits 1 and 4 set

ONLINE = "online"


def _status_byte(reply: bytes | None) -> int | None:
    """The last well-formed status byte of a reply (a printer with automatic
    status back may have sent other bytes first), or None."""
    for byte in reversed(reply or b""):
        if byte & _FIXED_MASK == _FIXED_VALUE:
            return byte
    return None


def online_from_reply(reply: bytes | None) -> str:
    """ONLINE, PRINTER_OFFLINE or PRINTER_UNKNOWN from a DLE EOT 1 reply."""
    byte = _status_byte(reply)
    if byte is None:
        return PRINTER_UNKNOWN
    return PRINTER_OFFLINE if byte & 0x08 else ONLINE


def paper_from_reply(reply: bytes | None) -> str:
    """PRINTER_OK, PRINTER_PAPER_LOW, PRINTER_PAPER_OUT or PRINTER_UNKNOWN from a DLE EOT 4 reply."""
    byte = _status_byte(reply)
    if byte is None:
        return PRINTER_UNKNOWN
    if byte & 0x60:
        return PRINTER_PAPER_OUT
    if byte & 0x0C:
        return PRINTER_PAPER_LOW
    return PRINTER_OK


def combine(online: str, paper: str) -> str:
    """One PRINTER_* state from the two answers; the worse one wins and an
    unanswered question never turns into OK."""
    if paper == PRINTER_PAPER_OUT:
        return PRINTER_PAPER_OUT
    if online == PRINTER_OFFLINE:
        return PRINTER_OFFLINE
    if PRINTER_UNKNOWN in (online, paper):
        return PRINTER_UNKNOWN
    return paper  # OK or PAPER_LOW


# Replies a printer sends in each state (used by the simulator and by tests).
REPLIES = {
    PRINTER_OK: (b"\x12", b"\x12"),
    PRINTER_PAPER_LOW: (b"\x12", b"\x1e"),
    PRINTER_PAPER_OUT: (b"\x1a", b"\x7e"),
    PRINTER_OFFLINE: (b"\x1a", b"\x12"),
}
