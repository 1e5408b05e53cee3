"""Typed errors of the CCCD chip reader.

Each error names, for IT staff, what went wrong (status words, file names,
reader names) and, for the patient, a catalogue key with a short sentence in
Vietnamese and English saying what to do next. None of them ever carries
personal data: no ID numbers, names or dates.
"""
from __future__ import annotations

from kiosk.errors import KioskError


class CardError(KioskError):
    """Base of every chip-reading problem."""

    patient_message_key = "error.card.unreadable"


class CardParseError(CardError):
    """A file read from the chip (or a test input) is not what ICAO 9303 or the
    Vietnamese DG13 layout describe. Parsers raise only this (or a subclass)
    for malformed input, never IndexError/ValueError."""

    patient_message_key = "error.card.unreadable"


class WrongAccessKey(CardError):
    """PACE or BAC failed: the CAN / MRZ data typed or scanned does not open this card."""

    patient_message_key = "error.card.wrong_key"


class NotAnEmrtd(CardError):
    """The card answers but is not an ICAO eMRTD (no eMRTD application)."""

    patient_message_key = "error.card.not_cccd"


class CardRemoved(CardError):
    """The card left the reader before the read finished."""

    patient_message_key = "error.card.removed"


class ReaderGone(CardError):
    """The reader itself disappeared (unplugged) or PC/SC is not running."""

    patient_message_key = "error.card.reader_gone"


class NoCard(CardError):
    """A read was asked for while no card is on the reader."""

    patient_message_key = "error.card.no_card"


class CardTimeout(CardError):
    """The card or reader did not finish within the configured time."""

    patient_message_key = "error.card.timeout"


class SecureMessagingError(CardError):
    """A secure-messaging response failed its MAC check or was malformed:
    the session cannot be trusted any more."""

    patient_message_key = "error.card.unreadable"


class CardCommandError(CardError):
    """The chip refused a command with an unexpected status word."""

    patient_message_key = "error.card.unreadable"

    def __init__(self, detail: str = "", *, sw: int | None = None, key: str | None = None):
        super().__init__(detail, key=key)
        self.sw = sw
