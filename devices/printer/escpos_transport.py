"""The real printer, through python-escpos (USB, network, serial or a device file).

``encode_ticket`` turns the ticket image into the printer's bytes with
python-escpos itself (ESC @, then ``GS v 0`` raster via
``image(impl="bitImageRaster")``, then a cut when the profile has a cutter);
the bytes are sent in one write, so the byte count is exact and the same for
the simulator. Every method here runs on the printer's own thread.
"""
from __future__ import annotations

import logging
import socket
from functools import lru_cache

from PIL import Image

from devices.printer.connection import Connection
from devices.printer.errors import PrinterError, PrinterOffline
from devices.printer.quiet import quiet_stdout
from devices.printer.status import ONLINE_QUERY, PAPER_QUERY, combine, online_from_reply, paper_from_reply
from kiosk.errors import ConfigError
from kiosk.ports import PRINTER_OFFLINE, PRINTER_UNKNOWN

log = logging.getLogger(__name__)


@lru_cache(maxsize=16)
def profile_info(name: str) -> tuple[int | None, bool]:
    """(dot width or None when the profile does not say, has a cutter) of a
    python-escpos printer profile; ConfigError for an unknown profile."""
    with quiet_stdout():
        from escpos.capabilities import get_profile

        try:
            profile = get_profile(name)
        except KeyError:
            from escpos.capabilities import CAPABILITIES

            known = ", ".join(sorted(CAPABILITIES["profiles"]))
            raise ConfigError(f"printer.profile: expected a python-escpos profile ({known}), got {name!r}") from None
    try:
        width = int(profile.profile_data["media"]["width"]["pixels"])
    except (KeyError, TypeError, ValueError):
        width = None
    return width, bool(profile.supports("paperFullCut") or profile.supports("paperPartCut"))


def encode_ticket(image: Image.Image, profile: str) -> bytes:
    """The bytes that print ``image``: ESC @, GS v 0 raster, then cut (or feed to the tear bar)."""
    from escpos.printer import Dummy

    _, has_cutter = profile_info(profile)
    with quiet_stdout():
        printer = Dummy(profile=profile)
        printer.hw("INIT")
        printer.image(image, impl="bitImageRaster")
        if has_cutter:
            printer.cut()
        else:
            printer.print_and_feed(4)
        return printer.output


class EscposTransport:
    """One printer connection, opened when needed and reopened after an error."""

    def __init__(self, connection: Connection, profile: str, *, timeout_s: float = 10.0,
                 status_timeout_s: float = 1.0):
        self.connection = connection
        self.profile = profile
        self.timeout_s = timeout_s
        self.status_timeout_s = status_timeout_s
        self._printer = None
        self.last_error = ""  # why the last status read found the printer offline

    def describe(self) -> str:
        return self.connection.describe()

    # --- connection -------------------------------------------------------------
    def _new_printer(self):
        c = self.connection
        if c.kind == "usb":
            from escpos.printer import Usb

            return Usb(c.vendor_id, c.product_id, timeout=int(self.timeout_s * 1000),
                       in_ep=c.in_ep, out_ep=c.out_ep, profile=self.profile)
        if c.kind == "network":
            from escpos.printer import Network

            return Network(c.target, c.port, timeout=min(self.timeout_s, 3.0), profile=self.profile)
        if c.kind == "serial":
            from escpos.printer import Serial

            return Serial(c.target, baudrate=c.baudrate, timeout=self.status_timeout_s, profile=self.profile)
        from escpos.printer import File

        return File(c.target, profile=self.profile)

    def _open(self):
        if self._printer is not None:
            return self._printer
        from escpos.exceptions import DeviceNotFoundError

        with quiet_stdout():
            printer = self._new_printer()
            try:
                printer.open()
            except DeviceNotFoundError as exc:
                raise PrinterOffline(f"printer ({self.describe()}) cannot be opened: "
                                     f"{str(exc).splitlines()[0]}", status=PRINTER_OFFLINE) from None
            except OSError as exc:  # File: missing device node, no permission
                raise PrinterOffline(f"printer ({self.describe()}) cannot be opened: {exc.strerror or exc}",
                                     status=PRINTER_OFFLINE) from None
            except Exception as exc:  # e.g. pyusb without a libusb backend
                raise PrinterOffline(f"printer ({self.describe()}) cannot be opened: {exc.__class__.__name__}: "
                                     f"{str(exc).splitlines()[0] if str(exc) else ''}",
                                     status=PRINTER_OFFLINE) from None
        device = printer.device
        if self.connection.kind == "network":
            device.settimeout(self.timeout_s)  # connect used the short timeout; writes get the long one
        elif self.connection.kind == "serial":
            device.write_timeout = self.timeout_s
        self._printer = printer
        return printer

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            try:
                with quiet_stdout():
                    printer.close()
            except Exception:  # closing a broken connection may fail; it is dropped either way
                log.debug("printer close failed", exc_info=True)

    def end_job(self) -> None:
        """Network printers usually serve one TCP connection at a time: let go
        after each job so `kiosk doctor` or a reprint from another program can
        reach it, and a printer restarted in between is simply reconnected.
        USB and serial stay open (reopening resets a USB printer)."""
        if self.connection.kind == "network":
            self.close()

    # --- status -----------------------------------------------------------------
    def _drain(self, printer) -> None:
        """Discard late replies to an earlier query that timed out."""
        device = printer.device
        if self.connection.kind == "network":
            device.settimeout(0)
            try:
                while device.recv(64):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
            finally:
                device.settimeout(self.timeout_s)
        elif self.connection.kind == "serial":
            device.reset_input_buffer()

    def _query(self, printer, query: bytes) -> bytes | None:
        """The raw reply, b"" when the printer closed the line, None when it said nothing in time."""
        self._drain(printer)
        device = printer.device
        if self.connection.kind == "network":
            device.settimeout(self.status_timeout_s)
        try:
            reply = bytes(printer.query_status(query))
        except TimeoutError:
            return None
        except Exception as exc:  # pyusb's read timeout is a USBTimeoutError
            if type(exc).__name__ == "USBTimeoutError":
                return None
            raise
        finally:
            if self.connection.kind == "network":
                device.settimeout(self.timeout_s)
        return reply

    def read_status(self) -> str:
        if not self.connection.can_read_status:
            return PRINTER_UNKNOWN  # a device file cannot answer; never reported as OK
        try:
            printer = self._open()
        except PrinterOffline as exc:
            self.last_error = str(exc)
            return PRINTER_OFFLINE
        self.last_error = ""
        try:
            with quiet_stdout():
                online_reply = self._query(printer, ONLINE_QUERY)
                paper_reply = self._query(printer, PAPER_QUERY)
        except OSError as exc:  # reset, broken pipe, cable pulled
            self.last_error = f"printer ({self.describe()}) connection lost: {exc.__class__.__name__}"
            log.info("printer status query failed: %s", exc.__class__.__name__,
                     extra={"event": "printer.status_failed", "printer": self.describe()})
            self.close()
            return PRINTER_OFFLINE
        if online_reply == b"" or paper_reply == b"":
            self.close()  # the other side closed the connection: reconnect next time
        return combine(online_from_reply(online_reply), paper_from_reply(paper_reply))

    # --- printing ---------------------------------------------------------------
    def write(self, data: bytes) -> None:
        printer = self._open()
        try:
            with quiet_stdout():
                printer._raw(data)
                if self.connection.kind == "file":
                    printer.flush()
        except (socket.timeout, TimeoutError):
            self.close()
            raise PrinterOffline(f"printer ({self.describe()}) stopped accepting data "
                                 f"within {self.timeout_s:g} s", status=PRINTER_OFFLINE) from None
        except OSError as exc:
            self.close()
            raise PrinterOffline(f"printer ({self.describe()}) connection lost while sending: "
                                 f"{exc.__class__.__name__}", status=PRINTER_OFFLINE) from None
        except Exception as exc:  # library errors other than I/O
            self.close()
            raise PrinterError(f"printer ({self.describe()}) failed while sending: "
                               f"{exc.__class__.__name__}") from None
