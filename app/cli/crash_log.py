"""Where a `kiosk` command's unexpected errors go: one line on stderr, the
redacted traceback in a log.

A command that has set up the kiosk's structured logging (``kiosk run``,
``kiosk display``) logs to the journal as usual. Any other command writes
warnings and errors as redacted JSON lines to the crash log file —
``$KIOSK_LOG_FILE``, else ``$XDG_STATE_HOME/kiosk/kiosk.log``
(``~/.local/state/kiosk/kiosk.log``) — and shows errors as one line on
stderr, never a traceback. Uncaught exceptions in threads go the same way.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

from kiosk.operations.logs import HANDLER_NAME, JsonFormatter

FILE_HANDLER = "kiosk-cli-file"
STDERR_HANDLER = "kiosk-cli-stderr"

log = logging.getLogger("kiosk.cli")


def log_path() -> Path:
    explicit = os.environ.get("KIOSK_LOG_FILE")
    if explicit:
        return Path(explicit).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "kiosk" / "kiosk.log"


class _OneLine(logging.Formatter):
    """The message only: tracebacks stay in the log file."""

    def format(self, record: logging.LogRecord) -> str:
        from kiosk.operations.logs import redact

        return f"kiosk: {record.levelname.lower()}: {redact(record.getMessage())}"


class _QuietFileHandler(logging.FileHandler):
    def handleError(self, record) -> None:  # a log that cannot be written must not print a traceback
        pass


def _not_silenced(record: logging.LogRecord) -> bool:
    """A command that gave a logger a NullHandler (it says the thing itself)
    keeps it off stderr, as it would be without this handler."""
    logger = logging.getLogger(record.name)
    while logger is not None:
        if any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            return False
        logger = logger.parent if logger.propagate else None
    return True


def structured_logging_active() -> bool:
    return any(h.get_name() == HANDLER_NAME for h in logging.getLogger().handlers)


def install() -> None:
    """For a CLI process whose root logger has no handler yet (not under a
    test runner's capture): warnings to stderr as one line, with details to
    the crash log; thread crashes logged instead of printed."""
    root = logging.getLogger()
    if root.handlers:
        return
    stderr = logging.StreamHandler(sys.stderr)
    stderr.set_name(STDERR_HANDLER)
    stderr.setLevel(logging.ERROR)  # warnings go to the log file only
    stderr.setFormatter(_OneLine())
    stderr.addFilter(_not_silenced)
    root.addHandler(stderr)
    try:
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _QuietFileHandler(path, encoding="utf-8", delay=True)
        handler.set_name(FILE_HANDLER)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    except OSError:
        pass  # no writable place: stderr still gets the one line
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)

    def thread_crash(args) -> None:
        if args.exc_type is SystemExit:
            return
        log.error("background thread %s stopped on an unexpected error (%s)",
                  args.thread.name if args.thread else "?", args.exc_type.__name__,
                  exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
                  extra={"event": "cli.thread_error"})

    threading.excepthook = thread_crash


def unexpected(command: str, exc: BaseException) -> str:
    """Log ``exc`` with its (redacted) traceback; the one line to show."""
    where = "the journal" if structured_logging_active() else str(log_path())
    logger = logging.getLogger("kiosk.cli")
    record_handlers = [h for h in logging.getLogger().handlers if h.get_name() != STDERR_HANDLER]
    # the traceback goes to the log (file or journal), never to stderr
    for handler in record_handlers:
        record = logger.makeRecord(logger.name, logging.ERROR, __file__, 0,
                                   "kiosk %s: unexpected error (%s)", (command, type(exc).__name__),
                                   (type(exc), exc, exc.__traceback__), extra={"event": "cli.unexpected_error",
                                                                                "command": command})
        if record.levelno >= handler.level:
            try:
                handler.handle(record)
            except Exception:
                pass
    return f"kiosk {command}: unexpected error ({type(exc).__name__}); see the log ({where})"
