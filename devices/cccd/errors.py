"""Typed errors of the CCCD chip reader.

Each error names, for IT staff, what went wrong (status words, file names,
reader names) and, for the patient, a catalogue key with a short sentence in
Vietnamese and English saying what to do next. None of them ever carries
personal data: no ID numbers, names or dates.
"""
from __future__ import annotations

from kiosk.errors import KioskError
from kiosk.texts.messages import register


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


register({
    "error.card.unreadable": {
        "vi": "Không đọc được thẻ. Vui lòng để thẻ yên trên đầu đọc và thử lại, hoặc quét mã QR trên thẻ.",
        "en": "The card could not be read. Please leave it still on the reader and try again, or scan the QR code on the card.",
    },
    "error.card.wrong_key": {
        "vi": "Số định danh không khớp với thẻ đặt trên đầu đọc. Vui lòng kiểm tra lại số hoặc quét mã QR trên thẻ.",
        "en": "The ID number does not match the card on the reader. Please check the number or scan the QR code on the card.",
    },
    "error.card.not_cccd": {
        "vi": "Thẻ này không phải thẻ căn cước gắn chip. Vui lòng đặt thẻ căn cước lên đầu đọc.",
        "en": "This is not a chip identity card. Please place your citizen identity card on the reader.",
    },
    "error.card.removed": {
        "vi": "Thẻ đã bị nhấc ra khi đang đọc. Vui lòng để thẻ yên trên đầu đọc cho đến khi có thông báo.",
        "en": "The card was lifted while it was being read. Please keep it on the reader until you see a message.",
    },
    "error.card.reader_gone": {
        "vi": "Đầu đọc thẻ đang gặp sự cố. Vui lòng quét mã QR trên thẻ hoặc đến quầy tiếp đón.",
        "en": "The card reader is not working. Please scan the QR code on your card or go to the reception desk.",
    },
    "error.card.no_card": {
        "vi": "Chưa thấy thẻ. Vui lòng đặt thẻ căn cước lên đầu đọc.",
        "en": "No card found. Please place your citizen identity card on the reader.",
    },
    "error.card.timeout": {
        "vi": "Đọc thẻ quá lâu. Vui lòng để thẻ yên trên đầu đọc và thử lại.",
        "en": "Reading the card took too long. Please leave it still on the reader and try again.",
    },
})
