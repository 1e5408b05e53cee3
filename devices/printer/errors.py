"""Typed printing errors. Each names the printer problem for IT staff (no
personal data) and keeps the ticket reference, so the ticket — already kept on
disk — can be reprinted with ``kiosk reprint REFERENCE`` once the printer is fixed."""
from __future__ import annotations

from devices.printer import texts  # noqa: F401  (registers the patient messages used below)
from kiosk.errors import KioskError


class PrinterError(KioskError):
    """The ticket was not (or not completely) printed."""

    patient_message_key = "error.printer"

    def __init__(self, detail: str = "", *, ticket_reference: str | None = None,
                 status: str | None = None, key: str | None = None):
        super().__init__(detail, key=key)
        self.ticket_reference = ticket_reference
        self.status = status


class PrinterPaperOut(PrinterError):
    patient_message_key = "error.printer_paper_out"


class PrinterOffline(PrinterError):
    """Cannot connect, cover open, or the printer reports itself offline."""

    patient_message_key = "error.printer_offline"


class PrinterTimeout(PrinterError):
    """The printer's thread did not finish the job within ``printer.timeout_s``."""

    patient_message_key = "error.printer_offline"


class TicketNotFound(KioskError):
    patient_message_key = "error.ticket_not_found"
