"""The `kiosk` command. Each command group lives in its own module here and
exposes ``register(subparsers)``; device libraries are imported only inside
the command that needs them, so `kiosk --help` stays fast and Qt-free."""
from __future__ import annotations

import argparse
import importlib
import json
import sys

from ..errors import KioskError

# One line per command module (kept in the order shown by --help).
COMMAND_MODULES = [
    "kiosk.cli.checkin",
    "kiosk.cli.sandbox",
    "kiosk.cli.config_cmd",
    "kiosk.cli.doctor",
    "kiosk.cli.admin",
    "kiosk.cli.printer",
    "kiosk.cli.display",
    "kiosk.cli.scan",
    "kiosk.cli.card",
    "kiosk.cli.ui_cmd",
    "kiosk.cli.outbox",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Patient check-in kiosk")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def print_json(data) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KioskError as exc:
        print(f"kiosk {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
