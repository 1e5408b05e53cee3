"""`kiosk print-test` and `kiosk reprint`: ticket printer tools for IT staff.

    kiosk print-test                          print a sample ticket on the configured printer
    kiosk print-test --preview t.png          write the exact ticket image (nothing printed)
    kiosk print-test --printer network:192.168.1.50:9100 --width 576
    kiosk reprint 7C9E6679                    reprint a kept ticket (reference under the QR, or its number)
    kiosk reprint --list                      tickets kept for reprint (one day)

Device code (devices.printer, python-escpos) is imported inside the commands only.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from app.cli import print_json
from kiosk.config.loader import Config, load_config
from kiosk.errors import KioskError
from kiosk.texts.messages import t

SAMPLES = ("normal", "offline-priority", "long")


def register(sub) -> None:
    p = sub.add_parser("print-test", help="print (or preview) a sample ticket with Vietnamese text")
    p.add_argument("--config", help="config file (default: $KIOSK_CONFIG, then the platform config dir)")
    p.add_argument("--printer", metavar="SPEC",
                   help="printer to use instead of the config: usb:VID:PID, network:HOST:PORT, "
                        "serial:DEVICE:BAUD, file:PATH or simulator")
    p.add_argument("--preview", metavar="PNG", help="write the ticket image to this PNG file "
                   "(prints only when --printer is also given)")
    p.add_argument("--width", type=int, choices=(384, 512, 576),
                   help="dot width: 384 for 58 mm paper, 512 or 576 for 80 mm (default: printer.dot_width)")
    p.add_argument("--sample", choices=SAMPLES, default="normal",
                   help="which sample: normal, offline-priority, long (very long names)")
    p.add_argument("--profile", help="python-escpos printer profile instead of printer.profile")
    p.set_defaults(func=_print_test)

    r = sub.add_parser("reprint", help="reprint a ticket kept from the last 24 hours")
    r.add_argument("ticket", nargs="?", help="ticket reference (as printed under the QR code) or queue number")
    r.add_argument("--config", help="config file (default: $KIOSK_CONFIG, then the platform config dir)")
    r.add_argument("--printer", metavar="SPEC", help="printer to use instead of the config (as for print-test)")
    r.add_argument("--list", action="store_true", help="list the kept tickets instead of printing")
    r.set_defaults(func=_reprint)


def _config(args) -> Config:
    config = load_config(args.config)
    changes = {}
    spec = getattr(args, "printer", None)
    if spec == "simulator":
        changes["driver"] = "simulator"
    elif spec:
        changes.update(driver="escpos", connection=spec)
    if getattr(args, "profile", None):
        changes["profile"] = args.profile
    if changes:
        config = dataclasses.replace(config, printer=dataclasses.replace(config.printer, **changes))
    return config


def _print_test(args) -> int:
    import devices.printer as printing
    from app import compose
    from devices.printer.samples import sample_ticket

    config = _config(args)
    width = args.width or config.printer.dot_width
    ticket = sample_ticket(args.sample, hospital_name=config.kiosk.hospital_name)
    result: dict = {"sample": args.sample, "width": width}
    if args.preview:
        layout = printing.layout_for(config, width)
        png = layout.render(ticket).png()
        path = Path(args.preview)
        path.write_bytes(png)
        result.update(preview=str(path), preview_bytes=len(png))
        if not args.printer:
            print_json(result)
            return 0
    if config.printer.driver == "none":
        print("kiosk print-test: no printer configured (printer.driver = \"none\"); "
              "use --printer SPEC or --preview FILE", file=sys.stderr)
        return 2
    printer = compose.build_printer(config, dot_width=width, keep_tickets=False)
    try:
        result.update(printer=printer.transport.describe(), status_before=printer.status())
        try:
            printer.print_ticket(ticket)
        except KioskError as exc:
            result.update(printed=False, error=str(exc), patient_message=t(exc.patient_message_key,
                                                                             config.kiosk.language))
            print_json(result)
            return 1
        result.update(printed=True, bytes=printer.last_bytes, status_after=printer.last_status,
                      reference=ticket.reference)
    finally:
        printer.close()
    print_json(result)
    return 0


def _reprint(args) -> int:
    import devices.printer as printing
    from app import compose

    config = _config(args)
    kept = printing.kept_tickets(config)
    if args.list:
        print_json([{"reference": tk.reference, "label": tk.label, "department": tk.department_code,
                     "room": tk.room_code, "issued_at": tk.issued_at.isoformat(), "offline": tk.offline}
                    for tk in kept.all()])
        return 0
    if not args.ticket:
        print("kiosk reprint: give a ticket reference or number (or --list)", file=sys.stderr)
        return 2
    ticket = kept.find(args.ticket)
    if config.printer.driver == "none":
        print("kiosk reprint: no printer configured (printer.driver = \"none\"); use --printer SPEC",
              file=sys.stderr)
        return 2
    printer = compose.build_printer(config)
    try:
        printer.print_ticket(ticket, reprint=True)
        print_json({"reprinted": True, "reference": ticket.reference, "label": ticket.label,
                    "printer": printer.transport.describe(), "status_after": printer.last_status})
    finally:
        printer.close()
    return 0
