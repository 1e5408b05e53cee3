"""Queue tickets on ESC/POS thermal printers.

``escpos_printer(config)`` gives the kiosk's ``Printer`` port as a
``TicketPrinter`` over python-escpos, ``simulated_printer(config)`` as the
scriptable simulator (``app.compose.build_printer`` picks one by
``printer.driver``). ``diagnose(config, printer)`` gives the checks ``kiosk
doctor`` shows. python-escpos is imported only when a printer is actually
opened.

Files: ``layout.py`` (ticket image), ``escpos_transport.py`` (encoding and the
connection), ``connection.py`` (the ``printer.connection`` setting),
``status.py`` (status replies), ``ticket_printer.py`` (the printer on its
device thread), ``simulator.py``, ``kept.py`` (tickets kept for reprint),
``quiet.py``, ``samples.py``, ``texts.py`` (ticket wording), ``errors.py``.
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
    "diagnose", "escpos_printer", "kept_tickets", "layout_for", "simulated_printer", "TicketPrinter", "SimulatedPrinter",
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


def _parts(config: Config, dot_width: int | None, keep_tickets: bool):
    dot_width = dot_width or config.printer.dot_width
    _check_profile(config, dot_width)
    return layout_for(config, dot_width), kept_tickets(config) if keep_tickets else None


def simulated_printer(config: Config, *, dot_width: int | None = None, keep_tickets: bool = True) -> SimulatedPrinter:
    """The scriptable printer with ``[printer]``'s layout, profile and simulator settings.
    ``keep_tickets=False`` for test prints, which must not be offered for reprint."""
    p = config.printer
    layout, kept = _parts(config, dot_width, keep_tickets)
    return SimulatedPrinter(layout, profile=p.profile, kept=kept, timeout_s=p.timeout_s, state=p.simulator_state,
                            delay_s=p.simulator_delay_s, checks=lambda printer: diagnose(config, printer, simulated=True))


def escpos_printer(config: Config, *, dot_width: int | None = None, keep_tickets: bool = True) -> TicketPrinter:
    """A ``TicketPrinter`` over python-escpos on ``printer.connection``. Opening
    the connection waits for the first status query or ticket, so a
    switched-off printer does not stop the kiosk from starting."""
    p = config.printer
    layout, kept = _parts(config, dot_width, keep_tickets)
    from devices.printer.escpos_transport import EscposTransport

    transport = EscposTransport(parse_connection(p.connection), p.profile, timeout_s=p.timeout_s,
                                status_timeout_s=p.status_timeout_s)
    return TicketPrinter(transport, layout, profile=p.profile, kept=kept, timeout_s=p.timeout_s,
                         checks=lambda printer: diagnose(config, printer))


def diagnose(config: Config, printer: TicketPrinter, *, simulated: bool = False) -> list[Check]:
    """What ``TicketPrinter.diagnose`` reports: connection setting (none for
    the ``simulated`` printer), profile, font, kept-ticket folder and the
    printer's live status."""
    p = config.printer
    checks: list[Check] = []
    if not simulated:
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
