"""Structured logs: one JSON object per line, for journald or any log shipper.

Code logs with the standard library and names the event and, where it has one,
the duration::

    log = logging.getLogger(__name__)
    log.info("check-in done", extra={"event": "checkin.done", "duration_ms": 412, "mode": "online"})

Every line carries the kiosk id (``kiosk.id`` in the config), so a fleet's logs
can be merged. Personal data must never be logged in the first place; as a
safety net the formatter also masks any 9- or 12-digit number (a citizen ID, or
the 9-digit document number derived from it) in the message, the extra fields
and tracebacks, keeping only the last 4 digits as ``kiosk.domain.mask_citizen_id``
does, and drops URL query strings (FHIR searches carry identifiers and birth
dates there). urllib3's request lines are never logged below WARNING.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import datetime, timezone

# 9 or 12 digits not touching other digits: 12 = CCCD number, 9 = its last 9
# digits (the chip's document number) or an old CMND number.
_ID_NUMBER_RE = re.compile(r"(?<!\d)(\d{9}|\d{12})(?!\d)")

# LogRecord attributes that are not "extra" fields.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message", "asctime", "taskName",
}

HANDLER_NAME = "kiosk-structured"


# The query string of a URL: FHIR searches carry identifiers and birth dates there.
_URL_QUERY_RE = re.compile(r"((?:https?://|/)[^\s?\"']*)\?[^\s\"']+")

# Libraries whose debug lines carry request URLs (with their query strings).
_CHATTY_LOGGERS = ("urllib3", "requests")


def redact(text: str) -> str:
    """Drop URL query strings and mask 9- and 12-digit numbers:
    'GET /Patient?identifier=x|001093012345' -> 'GET /Patient?…',
    '001093012345' -> '********2345'."""
    text = _URL_QUERY_RE.sub(lambda m: m.group(1) + "?…", text)
    return _ID_NUMBER_RE.sub(lambda m: "*" * (len(m.group(1)) - 4) + m.group(1)[-4:], text)


def _clean(value):
    """Extra values as JSON: numbers and booleans kept, strings redacted,
    anything else turned into redacted text."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, kiosk, logger, event, msg, extras."""

    def __init__(self, kiosk_id: str = ""):
        super().__init__()
        self.kiosk_id = kiosk_id

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "kiosk": self.kiosk_id,
            "logger": record.name,
            "event": getattr(record, "event", None) or record.name,
            "msg": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = _clean(value)
        if record.exc_info:
            exc_type = record.exc_info[0]
            entry["error"] = exc_type.__name__ if exc_type else ""
            entry["traceback"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable lines for a technician at a terminal (still redacted)."""

    def __init__(self, kiosk_id: str = ""):
        super().__init__("%(asctime)s %(levelname)s " + (kiosk_id or "-") + " %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}
        if extras:
            line += " " + " ".join(f"{k}={_clean(v)}" for k, v in extras.items())
        return redact(line)


def setup_logging(config, stream=None) -> logging.Handler:
    """Install one structured handler on the root logger (replacing an earlier
    one installed here), at ``logging.level`` in ``logging.format``. Writes to
    stderr by default: systemd sends it to the journal."""
    kiosk_id = config.kiosk.id
    fmt = JsonFormatter(kiosk_id) if config.logging.format == "json" else TextFormatter(kiosk_id)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(fmt)
    root = logging.getLogger()
    for old in list(root.handlers):
        # ours from an earlier call, or the CLI's fallback (app.cli.crash_log)
        if old.get_name() == HANDLER_NAME or (old.get_name() or "").startswith("kiosk-cli-"):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(config.logging.level)
    for name in _CHATTY_LOGGERS:  # never at DEBUG: their lines are request URLs
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)
    return handler


class timed:
    """Log an event with its duration when the block ends::

        with timed(log, "his.lookup"):
            ...

    On an exception the event is logged at WARNING with ``outcome = "error"``
    and the error's class name (not its text, which could carry data)."""

    def __init__(self, logger: logging.Logger, event: str, **fields):
        self.logger, self.event, self.fields = logger, event, fields

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb):
        duration_ms = round((time.perf_counter() - self.started) * 1000, 1)
        extra = {"event": self.event, "duration_ms": duration_ms, **self.fields}
        if exc_type is None:
            self.logger.info(self.event, extra={**extra, "outcome": "ok"})
        else:
            self.logger.warning(self.event, extra={**extra, "outcome": "error", "error": exc_type.__name__})
        return False
