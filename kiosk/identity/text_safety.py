"""Text that only looks right: the character-level rules every path that
stores or prints text shares.

- ``unsafe(ch)``: controls (Cc: C0, DEL, C1), format characters (Cf: zero
  width U+200B–U+200F, bidi U+202A–U+202E and U+2066–U+2069, U+FEFF, soft
  hyphen U+00AD, U+061C…), surrogates, private use and unassigned code points.
  They hide or reorder what a screen, a ticket or a terminal shows.
- ``foreign_digits(value)``: decimal digits other than ASCII ``0-9``
  (Arabic-Indic ``٠-٩``, full-width ``０-９``, Devanagari…). Where a number is
  expected they are refused, never converted.
- Patient input (QR, keypad, chip) containing unsafe characters is *refused*
  by ``kiosk.identity.input_rules`` / ``qr_payload``; text from the HIS or the
  BHXH gateway goes through ``from_system``, which *hides* them (the patient is
  not sent away for the hospital's data) and raises an alarm for IT: a log
  event ``text.hidden`` naming the source, resource type and field — never
  the value — and the counter ``kiosk_his_text_hidden_total`` /
  ``kiosk_insurance_text_hidden_total``.
- ``for_terminal(value)``: what the CLI prints; unsafe characters become
  visible ``\\uXXXX`` escapes.
"""
from __future__ import annotations

import logging
import unicodedata

log = logging.getLogger(__name__)

UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
REPLACEMENT = "\ufffd"  # what a decoder puts where the bytes were not UTF-8
BOM = "\ufeff"
# What real scanners add at the end of a code: CR, LF, CRLF, a Tab or Enter key.
SCANNER_LINE_ENDS = "\r\n\t"


def unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in UNSAFE_CATEGORIES


def has_unsafe(value: str) -> bool:
    return any(unicodedata.category(ch) in UNSAFE_CATEGORIES for ch in value)


def foreign_digits(value: str) -> bool:
    """True when ``value`` holds a digit that is not ASCII 0-9."""
    return any(ch.isdigit() and not ch.isascii() for ch in value)


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def strip_scanner_ends(value: str) -> str:
    """A leading byte-order mark and the trailing line ends a scanner adds."""
    if value.startswith(BOM):
        value = value[1:]
    return value.rstrip(SCANNER_LINE_ENDS)


_WHITESPACE_CONTROLS = frozenset("\t\n\r\x0b\x0c")


def hide_unsafe(value: str) -> str:
    """``value`` in NFC without unsafe characters; tab, newline and the like become spaces."""
    return nfc("".join(" " if ch in _WHITESPACE_CONTROLS else ch for ch in value
                       if ch in _WHITESPACE_CONTROLS or not unsafe(ch)))


def from_system(value, source: str, resource: str, field: str) -> str | None:
    """Text from the HIS (``source="his"``) or the BHXH gateway (``"bhxh"``):
    NFC, unsafe characters removed, whitespace runs collapsed; None when
    not text or nothing is left. Removing anything other than a tab or a
    newline logs ``text.hidden`` and counts it (resource type and field
    only, never the value)."""
    if not isinstance(value, str):
        return None
    if any(unsafe(ch) and ch not in _WHITESPACE_CONTROLS for ch in value):
        log.warning("hidden characters removed from a text the kiosk received", extra={
            "event": "text.hidden", "source": source, "resource": resource, "field": field})
        from kiosk.operations import metrics  # here: the CLI's printing needs none of prometheus_client

        if source == "his":
            metrics.HIS_TEXT_HIDDEN.inc(resource=resource, field=field)
        else:
            metrics.INSURANCE_TEXT_HIDDEN.inc(field=field)
    return " ".join(hide_unsafe(value).split()) or None


def for_terminal(value) -> str:
    """``str(value)`` with every unsafe character (ESC, CR, newline, bidi,
    zero width…) written as a visible escape, so nothing a card, a QR code or
    the HIS holds can move the cursor, recolour or reorder what the terminal
    shows. Callers print the kiosk's own line breaks themselves."""
    text = value if isinstance(value, str) else str(value)
    if not has_unsafe(text):
        return text
    return "".join(_escape(ch) if unsafe(ch) else ch for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
