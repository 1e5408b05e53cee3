"""`kiosk admin set-pin`: create the admin PIN hash and store it in the config.

The PIN is asked twice on the terminal (or read from stdin with ``--pin-stdin``
for provisioning scripts) and must follow the rule of
``kiosk.operations.admin_pin.pin_problem`` (6-12 digits, not a constant-step run
like 123456 or 987654, not a repeated group like 121212); a weaker PIN is
refused with exit code 1 and nothing changes. Only its scrypt hash is written, as
``[admin] pin_hash``, atomically and keeping the file's comments.
``--print`` shows the line to paste instead of writing the file.
"""
from __future__ import annotations

import getpass
import sys

from kiosk.config.loader import find_config_file
from kiosk.operations.admin_pin import PIN_MAX, PIN_MIN, PinError, check_pin_format, hash_pin


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
        pin = sys.stdin.readline().strip()
        check_pin_format(pin)
        return pin
    first = getpass.getpass(f"New admin PIN ({PIN_MIN}-{PIN_MAX} digits, not a run like 123456 "
                            "or a repeat like 121212): ")
    check_pin_format(first)
    if getpass.getpass("Same PIN again: ") != first:
        raise PinError("the two PINs differ")
    return first


def _set_pin(args) -> int:
    from kiosk.config.writer import update_config

    try:
        pin = _read_pin(args.pin_stdin)
    except PinError as exc:
        print(f"kiosk admin set-pin: {exc}; nothing changed", file=sys.stderr)
        return 1
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
