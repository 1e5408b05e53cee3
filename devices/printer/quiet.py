"""python-escpos ``print()``s diagnostics (e.g. "The media.width.pixel field of
the printer profile is not set") straight to stdout, where they would mix with
the kiosk's JSON output. While a thread is inside ``quiet_stdout()``, what that
thread writes to stdout goes to the debug log instead; other threads' output
passes through untouched.
"""
from __future__ import annotations

import io
import logging
import sys
import threading
from collections import Counter
from contextlib import contextmanager

log = logging.getLogger("devices.printer.escpos")

_lock = threading.Lock()
_quiet: Counter = Counter()  # thread ident -> nesting depth
_installed: dict = {}  # "proxy" and "previous" while any thread is quiet


class _ThreadFilter(io.TextIOBase):
    def __init__(self, target):
        self.target = target

    def write(self, text: str) -> int:
        if _quiet.get(threading.get_ident()):
            if text.strip():
                log.debug("python-escpos: %s", text.strip(), extra={"event": "printer.library_output"})
            return len(text)
        return self.target.write(text)

    def flush(self) -> None:
        self.target.flush()

    def __getattr__(self, name):
        return getattr(self.target, name)


@contextmanager
def quiet_stdout():
    ident = threading.get_ident()
    with _lock:
        if not _installed:
            proxy = _ThreadFilter(sys.stdout)
            _installed.update(proxy=proxy, previous=sys.stdout)
            sys.stdout = proxy
        _quiet[ident] += 1
    try:
        yield
    finally:
        with _lock:
            _quiet[ident] -= 1
            if _quiet[ident] <= 0:
                del _quiet[ident]
            if not _quiet and _installed:
                if sys.stdout is _installed["proxy"]:
                    sys.stdout = _installed["previous"]
                _installed.clear()
