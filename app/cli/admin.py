"""`kiosk admin set-pin`: create the admin PIN hash and store it in the config.

The PIN is asked twice on the terminal (or read from stdin with ``--pin-stdin``
for provisioning scripts); only its scrypt hash is written, as
``[admin] pin_hash``, atomically and keeping the file's comments.
``--print`` shows the line to paste instead of writing the file.
"""
from __future__ import annotations

import getpass
import sys

from kiosk.config.loader import find_config_file
from kiosk.operations.admin_pin import PinError, check_pin_format, hash_pin


def register(sub) -> None:
    p = sub.add_parser("admin", help="admin screen tools (PIN)")
    asub = p.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    sp = asub.add_parser("set-pin", help="set the admin screen PIN (stored as a scrypt hash)")
    sp.add_argument("--config", metavar="FILE", help="config file to update (default: the one the kiosk uses)")
    sp.add_argument("--pin-stdin", action="store_true", help="read the PIN from the first line of stdin")
    sp.add_argument("--print", dest="print_only", action="store_true",
                    help="print the pin_hash line instead of writing the config")
    sp.set_defaults(func=_set_pin)


def _read_pin(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    first = getpass.getpass("New admin PIN (4-12 digits): ")
    check_pin_format(first)
    if getpass.getpass("Same PIN again: ") != first:
        raise PinError("the two PINs differ; nothing changed")
    return first


def _set_pin(args) -> int:
    from kiosk.config.writer import update_config

    pin = _read_pin(args.pin_stdin)
    pin_hash = hash_pin(pin)
    if args.print_only:
        print(f'[admin]\npin_hash = "{pin_hash}"')
        return 0
    path = find_config_file(args.config)
    if path is None:
        print("kiosk admin set-pin: no config file found; give one with --config FILE "
              "(it is created if missing) or use --print", file=sys.stderr)
        return 1
    update_config(path, {"admin.pin_hash": pin_hash})
    print(f"admin PIN set in {path}")
    return 0
