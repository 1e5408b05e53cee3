"""The kiosk's ``Printer`` port: render, keep, check, print, check again.

The same class drives the real printer (``EscposTransport``) and the simulator
(``SimulatedTransport``), so the simulator exercises the very code path the
kiosk runs in a hospital: status before printing, the python-escpos encoding,
status after printing, typed errors, staff alerts and kept tickets.

A transport has ``read_status() -> PRINTER_*``, ``write(bytes)``, ``close()``,
``describe()`` and optionally ``end_job()``; all run on the printer's own thread.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from devices.printer.errors import PrinterError, PrinterOffline, PrinterPaperOut, PrinterTimeout
from devices.printer.escpos_transport import encode_ticket
from devices.printer.kept import KeptTickets
from devices.printer.layout import RenderedTicket, TicketLayout
from devices.worker import DeviceTimeout, DeviceWorker
from kiosk.domain import Ticket
from kiosk.operations import metrics
from kiosk.operations.diagnostics import FAIL, OK, WARN, Check
from kiosk.ports import (
    PRINTER_OFFLINE,
    PRINTER_OK,
    PRINTER_PAPER_LOW,
    PRINTER_PAPER_OUT,
    PRINTER_UNKNOWN,
)

log = logging.getLogger("devices.printer")


def staff_alert(event: str, message: str, *, level: int = logging.ERROR, **fields) -> None:
    """A log line IT staff act on (paper out, printer offline). Never personal data."""
    log.log(level, message, extra={"event": event, "alert": "staff", **fields})


class TicketPrinter:
    def __init__(self, transport, layout: TicketLayout, *, profile: str,
                 kept: KeptTickets | None = None, timeout_s: float = 10.0,
                 checks: Callable[["TicketPrinter"], list[Check]] | None = None):
        self.transport = transport
        self._checks = checks
        self.layout = layout
        self.profile = profile
        self.kept = kept
        self.timeout_s = timeout_s
        self.worker = DeviceWorker("printer")
        self.last_status = PRINTER_UNKNOWN
        self.last_bytes = 0
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.Lock()

    # --- Printer port -------------------------------------------------------------
    def status(self) -> str:
        """One of the PRINTER_* constants; PRINTER_UNKNOWN when the printer cannot
        or did not answer in time (never OK by default)."""
        try:
            return self.worker.call(lambda: self._job(self._read_status), self.timeout_s)
        except DeviceTimeout:
            self._note_status(PRINTER_UNKNOWN)
            return PRINTER_UNKNOWN

    def preview_png(self, ticket: Ticket) -> bytes:
        return self.render(ticket).png()

    def render(self, ticket: Ticket, *, reprint: bool = False) -> RenderedTicket:
        return self.layout.render(ticket, reprint=reprint)

    def print_ticket(self, ticket: Ticket, *, reprint: bool = False) -> None:
        """Print the ticket, or raise PrinterPaperOut / PrinterOffline /
        PrinterTimeout / PrinterError. The ticket is kept on disk first, so it
        can be reprinted whatever happens."""
        rendered = self.render(ticket, reprint=reprint)
        if self.kept is not None and not reprint:
            try:
                self.kept.keep(ticket)
            except OSError as exc:
                staff_alert("printer.keep_failed", f"cannot keep ticket for reprint in {self.kept.folder}: "
                            f"{exc.strerror}", level=logging.WARNING)
        try:
            self.worker.call(lambda: self._job(lambda: self._print_job(rendered)), self.timeout_s)
        except DeviceTimeout:
            self._note_status(PRINTER_UNKNOWN)
            err = PrinterTimeout(f"printer ({self.transport.describe()}) did not finish the ticket within "
                                 f"{self.timeout_s:g} s (printer.timeout_s)", ticket_reference=ticket.reference)
            self._alert_failure(err, ticket)
            raise err from None
        except PrinterError as err:
            err.ticket_reference = ticket.reference
            self._alert_failure(err, ticket)
            raise

    # --- extras for the UI, the CLI and tests -------------------------------------
    def subscribe(self, callback: Callable[[str], None]) -> None:
        """``callback(status)`` on every status change. It is called on the
        printer's thread: a Qt receiver must queue it to the GUI thread."""
        self._listeners.append(callback)

    def diagnose(self) -> list[Check]:
        """Connection, profile, font, kept-ticket folder and the live status
        (``devices.printer.diagnose``); unknown is a warning, never OK."""
        if self._checks is not None:
            return self._checks(self)
        return [status_check(self)]

    def close(self) -> None:
        if self.worker.running:
            try:
                self.worker.call(self.transport.close, 2.0)
            except DeviceTimeout:
                pass
        else:
            self.transport.close()
        self.worker.close()

    # --- on the printer's thread -----------------------------------------------------
    def _job(self, work):
        """One job; afterwards a transport that should not hold the printer between
        jobs (network printers often take one connection at a time) lets go."""
        try:
            return work()
        finally:
            end_job = getattr(self.transport, "end_job", None)
            if end_job is not None:
                end_job()

    def _read_status(self) -> str:
        status = self.transport.read_status()
        self._note_status(status)
        return status

    def _print_job(self, rendered: RenderedTicket) -> None:
        before = self._read_status()
        where = self.transport.describe()
        if before == PRINTER_PAPER_OUT:
            raise PrinterPaperOut(f"printer ({where}) reports paper out; nothing was sent", status=before)
        if before == PRINTER_OFFLINE:
            why = getattr(self.transport, "last_error", "") or \
                f"printer ({where}) reports itself offline (cover open or error)"
            raise PrinterOffline(f"{why}; nothing was sent", status=before)
        if before == PRINTER_UNKNOWN:
            log.info("printer status unknown before printing; printing anyway",
                     extra={"event": "printer.status_unknown", "printer": where})
        data = encode_ticket(rendered.image, self.profile)
        self.transport.write(data)
        self.last_bytes = len(data)
        after = self._read_status()
        if after == PRINTER_PAPER_OUT:
            raise PrinterPaperOut(f"printer ({where}) ran out of paper while printing; the ticket may be "
                                  "incomplete", status=after)
        if after == PRINTER_OFFLINE:
            raise PrinterOffline(f"printer ({where}) went offline while printing; the ticket may be "
                                 "incomplete", status=after)
        if PRINTER_PAPER_LOW in (before, after):
            staff_alert("printer.paper_low", f"printer ({where}) paper near end: replace the roll soon",
                        level=logging.WARNING)
        log.info("ticket printed", extra={"event": "printer.printed", "bytes": len(data), "status": after})

    def _note_status(self, status: str) -> None:
        metrics.set_paper_state(status)
        with self._lock:
            changed = status != self.last_status
            self.last_status = status
        if changed:
            for callback in list(self._listeners):
                try:
                    callback(status)
                except Exception:  # a broken listener must not break printing
                    log.exception("printer status listener failed")

    def _alert_failure(self, err: PrinterError, ticket: Ticket) -> None:
        metrics.PRINT_FAILURES.inc()
        event = {PrinterPaperOut: "printer.paper_out", PrinterOffline: "printer.offline",
                 PrinterTimeout: "printer.timeout"}.get(type(err), "printer.failed")
        staff_alert(event, f"ticket not printed: {err}; reprint with `kiosk reprint "
                    f"{ticket.reference[:8]}` once fixed", ticket=ticket.reference, label=ticket.label)


_STATUS_CHECKS = {
    PRINTER_OK: (OK, "online, paper OK", ""),
    PRINTER_PAPER_LOW: (WARN, "online, paper near end", "put in a new paper roll soon"),
    PRINTER_PAPER_OUT: (FAIL, "paper out", "put in a new paper roll and close the cover"),
    PRINTER_OFFLINE: (FAIL, "offline or not reachable",
                      "check power, cable/network and printer.connection; close the cover"),
}


def status_check(printer: TicketPrinter) -> Check:
    """The printer's live status as one check (unknown is a warning, never OK)."""
    status = printer.status()
    where = printer.transport.describe()
    if status in _STATUS_CHECKS:
        level, detail, fix = _STATUS_CHECKS[status]
        return Check("printer.status", level, f"{where}: {detail}", fix)
    return Check("printer.status", WARN, f"{where}: status unknown (the printer or its connection cannot report it)",
                 "print a test ticket (`kiosk print-test`) to check it works")


__all__ = ["TicketPrinter", "PRINTER_OK", "staff_alert", "status_check"]
