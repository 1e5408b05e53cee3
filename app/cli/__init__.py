"""The `kiosk` command. Each command group lives in its own module here and
exposes ``register(subparsers)``; device libraries are imported only inside
the command that needs them, so `kiosk --help` stays fast and Qt-free.

Nothing raw reaches the terminal: text that came from a card, a QR code, the
HIS or the gateway is printed through ``shown`` (control, escape, bidi and
zero-width characters as visible ``\\xNN`` / ``\\uNNNN`` escapes), and JSON
through ``print_json`` / ``json_text``, which escape the same characters as
``\\uNNNN`` (``json.dumps`` leaves DEL, C1 controls and bidi characters raw)."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import threading

from kiosk.errors import KioskError
from kiosk.identity.text_safety import for_terminal as shown
from kiosk.identity.text_safety import unsafe

# One line per command module (kept in the order shown by --help).
COMMAND_MODULES = [
    "app.cli.checkin",
    "app.cli.insurance",
    "app.cli.sandbox",
    "app.cli.config_cmd",
    "app.cli.doctor",
    "app.cli.admin",
    "app.cli.printer",
    "app.cli.board",
    "app.cli.queue_server",
    "app.cli.scan",
    "app.cli.card",
    "app.cli.ui_cmd",
    "app.cli.outbox",
    "app.cli.stats",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Patient check-in kiosk")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def json_text(data, indent: int | None = 2) -> str:
    """``data`` as JSON (UTF-8 text kept readable), every control or invisible
    character written as a ``\\uNNNN`` escape (the JSON is the same value)."""
    text = json.dumps(data, ensure_ascii=False, indent=indent, default=str)
    return "".join(_json_escape(ch) if ch != "\n" and unsafe(ch) else ch for ch in text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def print_json(data) -> None:
    sys.stdout.write(json_text(data))
    sys.stdout.write("\n")


def _incomplete(command: str, exc: ImportError) -> int:
    """A part of the software or a library is missing: say so, never run without it."""
    print(f"kiosk {command}: the kiosk software is incomplete (cannot import {exc.name or exc}); "
          "reinstall it: make install", file=sys.stderr)
    return 1


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt("SIGTERM")


def _stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C (``finally`` blocks close the database and
    stop the threads) instead of killing the process mid-write. Commands with
    a Qt loop install their own handlers (``kiosk run``, ``kiosk demo``)."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)


def _reader_went_away() -> int:
    """The output's reader closed the pipe (``kiosk … --json | head``): stop quietly.
    Python would complain again when it flushes stdout at exit, so stdout is
    pointed at /dev/null first. 141 = 128 + SIGPIPE, what a shell reports for a
    command ended by a closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141


def main(argv: list[str] | None = None) -> int:
    """Run one command; a reader that closed the pipe ends it quietly (``_reader_went_away``)."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except SystemExit:  # argparse's --help and usage errors
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            return _reader_went_away()
        raise
    except BrokenPipeError:
        return _reader_went_away()


def _main(argv: list[str] | None) -> int:
    """Run one command. A typed error (``KioskError``: bad config, bad input,
    device or HIS trouble) is one line on stderr; any other exception is one
    line too (``kiosk COMMAND: unexpected error (TypeName); see the log``),
    its redacted traceback only in the log (``app.cli.crash_log``)."""
    from app.cli.crash_log import install, unexpected

    try:
        parser = build_parser()
    except ImportError as exc:
        return _incomplete("", exc)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    install()
    _stop_on_sigterm()
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        raise
    except KioskError as exc:
        print(f"kiosk {args.command}: {shown(exc)}", file=sys.stderr)
        return 1
    except ImportError as exc:
        return _incomplete(args.command, exc)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback on the terminal
        print(unexpected(args.command, exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
