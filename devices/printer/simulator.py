"""A scriptable printer for the demo, the UI and tests (``printer.driver = "simulator"``).

It sits behind the same ``TicketPrinter`` as the real printer, so tickets are
rendered, encoded by python-escpos, status-checked and kept exactly as in a
hospital; only the bytes go nowhere. Scripts: paper near end, paper out,
offline, slow, and "after N more tickets, become X" (a roll running out in
the middle of the morning). The last ticket image is kept for the UI demo.
"""
from __future__ import annotations

import threading
from typing import Callable

from PIL import Image

from devices.printer.errors import PrinterOffline
from devices.printer.layout import image_png
from devices.printer.ticket_printer import TicketPrinter
from kiosk.ports import PRINTER_OFFLINE, PRINTER_OK, PRINTER_PAPER_LOW, PRINTER_PAPER_OUT

STATES = (PRINTER_OK, PRINTER_PAPER_LOW, PRINTER_PAPER_OUT, PRINTER_OFFLINE)


class SimulatedTransport:
    def __init__(self, state: str = PRINTER_OK, delay_s: float = 0.0):
        self.state = state
        self.delay_s = delay_s
        self.after: list[tuple[int, str]] = []  # (tickets still to print, state then)
        self.writes: list[bytes] = []
        self.status_reads = 0
        self._cancel = threading.Event()

    def describe(self) -> str:
        return "simulator"

    def _wait(self) -> None:
        if self.delay_s:
            self._cancel.wait(self.delay_s)

    def read_status(self) -> str:
        self.status_reads += 1
        self._wait()
        return self.state

    def write(self, data: bytes) -> None:
        self._wait()
        if self.state == PRINTER_OFFLINE:
            raise PrinterOffline("printer (simulator) is offline", status=PRINTER_OFFLINE)
        self.writes.append(data)
        remaining = []
        for count, state in self.after:
            if count <= 1:
                self.state = state
            else:
                remaining.append((count - 1, state))
        self.after = remaining

    def close(self) -> None:
        self._cancel.set()  # a slow job in progress finishes at once


class SimulatedPrinter(TicketPrinter):
    """``TicketPrinter`` over ``SimulatedTransport`` with the scripting methods."""

    def __init__(self, layout, *, profile: str = "TM-T20II", kept=None, timeout_s: float = 10.0,
                 state: str = PRINTER_OK, delay_s: float = 0.0, checks=None):
        super().__init__(SimulatedTransport(state, delay_s), layout, profile=profile, kept=kept,
                         timeout_s=timeout_s, checks=checks)
        self.printed_images: list[Image.Image] = []
        self._printed_listeners: list[Callable[[Image.Image], None]] = []

    # --- scripting ------------------------------------------------------------
    def set_state(self, state: str, *, after_tickets: int = 0) -> None:
        """Become ``state`` now, or once ``after_tickets`` more tickets have printed."""
        if state not in STATES:
            raise ValueError(f"simulated printer state must be one of {STATES}, got {state!r}")
        if after_tickets:
            self.transport.after.append((after_tickets, state))
        else:
            self.transport.state = state

    def set_delay(self, seconds: float) -> None:
        """Make every status read and every ticket take ``seconds`` (a slow or hung printer)."""
        self.transport.delay_s = seconds

    # --- what was printed -----------------------------------------------------------
    @property
    def last_image(self) -> Image.Image | None:
        return self.printed_images[-1] if self.printed_images else None

    def last_png(self) -> bytes | None:
        image = self.last_image
        return image_png(image) if image is not None else None

    def on_printed(self, callback: Callable[[Image.Image], None]) -> None:
        """``callback(image)`` after each printed ticket (on the printer's thread)."""
        self._printed_listeners.append(callback)

    def _print_job(self, rendered) -> None:
        writes = len(self.transport.writes)
        try:
            super()._print_job(rendered)
        finally:
            if len(self.transport.writes) > writes:  # paper ran out after the bytes went out: keep what printed
                self.printed_images.append(rendered.image)
                del self.printed_images[:-20]
                for callback in list(self._printed_listeners):
                    callback(rendered.image)

    def close(self) -> None:
        self.transport.close()
        super().close()

