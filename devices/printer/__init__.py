"""Queue tickets on ESC/POS thermal printers.

``build_printer(config)`` returns the kiosk's ``Printer`` port: a
``TicketPrinter`` over python-escpos (``printer.driver = "escpos"``) or over
the scriptable simulator (``"simulator"``). ``diagnose(config)`` gives the
checks ``kiosk doctor`` shows. python-escpos is imported only when a printer
is actually opened.

Files: ``layout.py`` (ticket image), ``escpos_transport.py`` (encoding and the
connection), ``status.py`` (status replies), ``thread.py`` (the printer's
thread), ``simulator.py``, ``kept.py`` (tickets kept for reprint),
``texts.py`` (ticket wording), ``errors.py``.
"""
from __future__ import annotations

from pathlib import Path

from devices.printer.connection import parse_connection
from devices.printer.errors import PrinterError, PrinterOffline, PrinterPaperOut, PrinterTimeout, TicketNotFound
from devices.printer.kept import KeptTickets
from devices.printer.layout import FONT_BOLD, FONT_REGULAR, TicketLayout
from devices.printer.simulator import SimulatedPrinter
from devices.printer.ticket_printer import TicketPrinter, status_check
from kiosk.config.loader import Config
from kiosk.errors import ConfigError
from kiosk.operations.diagnostics import FAIL, OK, WARN, Check

__all__ = [
    "build_printer", "diagnose", "kept_tickets", "layout_for", "TicketPrinter", "SimulatedPrinter",
    "PrinterError", "PrinterOffline", "PrinterPaperOut", "PrinterTimeout", "TicketNotFound",
]


def kept_tickets(config: Config) -> KeptTickets:
    return KeptTickets(config.data_dir() / "tickets")


def layout_for(config: Config, dot_width: int | None = None) -> TicketLayout:
    p = config.printer
    if p.logo and not Path(p.logo).expanduser().is_file():
        raise ConfigError(f"printer.logo: expected a readable image file, got {p.logo!r}")
    return TicketLayout(dot_width or p.dot_width, lang=config.kiosk.language, footer=p.footer,
                        logo=str(Path(p.logo).expanduser()) if p.logo else "",
                        hospital_name=config.kiosk.hospital_name)


def _check_profile(config: Config, dot_width: int) -> None:
    from devices.printer.escpos_transport import profile_info

    width, _ = profile_info(config.printer.profile)
    if width is not None and dot_width > width:
        raise ConfigError(f"printer.dot_width: expected at most {width} for profile {config.printer.profile!r}, "
                          f"got {dot_width}")


def build_printer(config: Config, *, dot_width: int | None = None, keep_tickets: bool = True) -> TicketPrinter:
    """The configured printer (real or simulated). Opening the connection waits
    for the first status query or ticket, so a switched-off printer does not
    stop the kiosk from starting. ``keep_tickets=False`` for test prints, which
    must not be offered for reprint."""
    p = config.printer
    dot_width = dot_width or p.dot_width
    _check_profile(config, dot_width)
    layout = layout_for(config, dot_width)
    kept = kept_tickets(config) if keep_tickets else None
    checks = lambda printer: diagnose(config, printer)  # noqa: E731
    if p.driver == "simulator":
        return SimulatedPrinter(layout, profile=p.profile, kept=kept, timeout_s=p.timeout_s,
                                state=p.simulator_state, delay_s=p.simulator_delay_s, checks=checks)
    if p.driver != "escpos":
        raise ConfigError(f"printer.driver: expected escpos or simulator to build a printer, got {p.driver!r}")
    from devices.printer.escpos_transport import EscposTransport

    transport = EscposTransport(parse_connection(p.connection), p.profile, timeout_s=p.timeout_s,
                                status_timeout_s=p.status_timeout_s)
    return TicketPrinter(transport, layout, profile=p.profile, kept=kept, timeout_s=p.timeout_s, checks=checks)


def diagnose(config: Config, printer: TicketPrinter) -> list[Check]:
    """What ``TicketPrinter.diagnose`` reports: connection setting, profile,
    font, kept-ticket folder and the printer's live status."""
    p = config.printer
    checks: list[Check] = []
    if p.driver == "none":
        return [Check("printer", WARN, "no printer configured (printer.driver = \"none\"): no tickets",
                      "set printer.driver = \"escpos\" and printer.connection")]
    if p.driver == "escpos":
        try:
            conn = parse_connection(p.connection)
            checks.append(Check("printer.connection", OK, conn.describe()))
        except ConfigError as exc:
            return checks + [Check("printer.connection", FAIL, str(exc), "fix printer.connection in the config")]
    else:
        checks.append(Check("printer.connection", WARN, "simulated printer: tickets are not printed on paper",
                            "set printer.driver = \"escpos\" on a kiosk with a printer"))
    try:
        from devices.printer.escpos_transport import profile_info

        width, cutter = profile_info(p.profile)
        _check_profile(config, p.dot_width)
        checks.append(Check("printer.profile", OK, f"{p.profile}: {width or 'unknown'} dots, "
                            f"{'cutter' if cutter else 'no cutter (tear off)'}; tickets {p.dot_width} dots"))
    except ConfigError as exc:
        return checks + [Check("printer.profile", FAIL, str(exc), "fix printer.profile / printer.dot_width")]
    missing = [f.name for f in (FONT_REGULAR, FONT_BOLD) if not f.is_file()]
    checks.append(Check("printer.font", FAIL, f"ticket font missing: {', '.join(missing)}",
                        "reinstall the kiosk (assets/fonts)") if missing
                  else Check("printer.font", OK, "DejaVu Sans (all Vietnamese letters)"))
    folder = kept_tickets(config).folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("ok")
        probe.unlink()
        checks.append(Check("printer.kept_tickets", OK, f"tickets kept one day in {folder}"))
    except OSError as exc:
        checks.append(Check("printer.kept_tickets", WARN, f"cannot write {folder}: {exc.strerror}",
                            "make kiosk.data_dir writable for the kiosk user (reprints need it)"))
    checks.append(status_check(printer))
    return checks
