"""What the admin screen does, without Qt: run the doctor, save settings,
print a test ticket, read a card, look at and retry the outbox.

Every method may block (device and HIS I/O): the screen calls them on a worker
thread through ``ui.tasks.TaskRunner``. Results are short texts for IT staff;
they never contain personal data (a test card read shows the masked ID only).
"""
from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk import input_rules
from kiosk.config import Config
from kiosk.config_writer import update_config
from kiosk.diagnostics import Check
from app.doctor import run_doctor, test_ticket
from kiosk.domain import AccessKey
from kiosk.logs import redact

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    ok: bool
    text: str


@dataclass
class OutboxView:
    available: bool
    backlog: int = 0
    oldest_age_s: float | None = None
    rows: list[str] | None = None  # one line per entry: id, age, attempts, last error (no personal data)
    incidents: list[str] | None = None  # the local database was damaged/emptied/replaced: what to do


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {redact(str(exc))}"


class AdminActions:
    def __init__(self, config_path: str | Path | None, config: Config, services=None):
        self.config_path = Path(config_path) if config_path else None
        self.config = config
        self.services = services

    # -- status ---------------------------------------------------------------
    def doctor(self, timeout_s: float = 8.0) -> list[Check]:
        checks, config = run_doctor(str(self.config_path) if self.config_path else None, timeout_s=timeout_s)
        return checks

    # -- settings -------------------------------------------------------------
    def save(self, changes: dict) -> Config:
        """Validate and write ``{"section.key": value}``; raises ConfigError
        (nothing written) when a value is refused."""
        if self.config_path is None:
            from kiosk.errors import ConfigError

            raise ConfigError("no config file: start the kiosk with --config FILE to change settings here")
        self.config = update_config(self.config_path, changes)
        log.info("settings changed", extra={"event": "admin.settings_saved", "keys": sorted(changes)})
        return self.config

    # -- devices --------------------------------------------------------------
    def test_print(self) -> Outcome:
        printer = getattr(self.services, "printer", None)
        own = printer is None
        try:
            if own:
                if self.config.printer.driver == "none":
                    return Outcome(False, 'printer.driver = "none": no printer configured')
                printer = importlib.import_module("devices.printer").build_printer(self.config, keep_tickets=False)
            started = time.perf_counter()
            printer.print_ticket(test_ticket(self.config))
            status = printer.status()
            ms = (time.perf_counter() - started) * 1000
            log.info("test ticket printed", extra={"event": "admin.test_print", "duration_ms": round(ms)})
            return Outcome(True, f"test ticket sent in {ms:.0f} ms; printer status: {status}")
        except Exception as exc:
            log.warning("test print failed", extra={"event": "admin.test_print_failed", "error": type(exc).__name__})
            return Outcome(False, _error_text(exc))
        finally:
            if own and printer is not None:
                for name in ("stop", "close"):
                    if callable(getattr(printer, name, None)):
                        try:
                            getattr(printer, name)()
                        except Exception:
                            pass
                        break

    def test_card_read(self, can: str, timeout_s: float = 15.0) -> Outcome:
        """Open the chip with the card's 6-digit CAN and read it; shows only
        the masked ID, the assurance level and the time taken."""
        try:  # ASCII digits only (kiosk.input_rules): "１２３４５６" is refused, not converted
            can = input_rules.can(can, "CAN")
        except input_rules.InputRefused as exc:
            return Outcome(False, str(exc))
        reader = getattr(self.services, "card_reader", None)
        own = reader is None
        try:
            if own:
                if self.config.card_reader.driver == "none":
                    return Outcome(False, 'card_reader.driver = "none": no reader configured')
                reader = importlib.import_module("devices.card").build_card_reader(self.config)
                reader.start(lambda event: None)
            started = time.perf_counter()
            identity = reader.read_identity(AccessKey(can=can), with_photo=False, timeout=timeout_s)
            ms = (time.perf_counter() - started) * 1000
            log.info("test card read", extra={"event": "admin.test_card_read", "duration_ms": round(ms),
                                              "assurance": identity.assurance.value})
            return Outcome(True, f"card read in {ms:.0f} ms: {identity.masked_id}, {identity.assurance.value}")
        except Exception as exc:
            log.warning("test card read failed", extra={"event": "admin.test_card_read_failed",
                                                        "error": type(exc).__name__})
            return Outcome(False, _error_text(exc))
        finally:
            if own and reader is not None:
                try:
                    reader.stop()
                except Exception:
                    pass

    # -- outbox ---------------------------------------------------------------
    def _offline(self):
        """The running kiosk's offline parts (``services.offline``: store and
        sender), or None when this kiosk has no offline cache."""
        return getattr(self.services, "offline", None)

    def outbox_view(self) -> OutboxView:
        parts = self._offline()
        if parts is None:
            return OutboxView(available=False)
        store = parts.store
        rows = [_row_text(e) for e in store.entries(limit=200) if e.get("state") != "delivered"]
        generation = getattr(store.database, "generation", None)
        incidents = []
        if generation is not None:
            from offline_cache.integrity import open_incidents

            incidents = [f"{i.describe()} → {i.fix()}" for i in open_incidents(generation)]
        return OutboxView(True, store.backlog(), store.oldest_waiting_age_s(), rows, incidents)

    def retry_outbox(self) -> Outcome:
        """Every waiting or given-up entry gets a fresh attempt budget and the
        sender is woken to deliver them now."""
        parts = self._offline()
        if parts is None:
            return Outcome(False, "this kiosk has no offline outbox")
        try:
            ids = [e["id"] for e in parts.store.entries(limit=1000) if e.get("state") in ("dead", "pending")]
            retried = sum(bool(parts.store.retry(i)) for i in ids)
            parts.sender.kick()
        except Exception as exc:
            return Outcome(False, _error_text(exc))
        log.info("outbox retried", extra={"event": "admin.outbox_retry", "entries": retried})
        return Outcome(True, f"{retried} entries queued to be sent now")


def _row_text(entry: dict) -> str:
    """One outbox entry for IT: number, state, ticket, tries, age, last error."""
    age = ""
    if entry.get("created_at"):
        age = f"{(time.time() - entry['created_at']) / 60:.0f} min ago"
    parts = [f"#{entry.get('id')}", str(entry.get("state", "")),
             f"{entry.get('department_code') or ''} {entry.get('queue_label') or ''}".strip(),
             f"tries {entry.get('tries_total', 0)}", age]
    if entry.get("last_error"):
        parts.append(f"last error: {entry['last_error']}")
    return redact("  ·  ".join(p for p in parts if p))
