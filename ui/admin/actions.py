"""What the admin screen does, without Qt: run the doctor, save settings,
print a test ticket, read a card, look at and retry the outbox.

Every method may block (device and HIS I/O): the screen calls them on a worker
thread through ``ui.tasks.TaskRunner``. Results are short texts for IT staff;
they never contain personal data (a test card read shows the masked ID only).
What needs the other layers (the doctor, opening a device, detecting devices)
comes in as ``AdminTools`` from the composition root.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.checkin.visit_rules import test_ticket
from kiosk.config.loader import Config
from kiosk.config.writer import update_config
from kiosk.domain import AccessKey
from kiosk.errors import ConfigError
from kiosk.identity import input_rules
from kiosk.operations.diagnostics import Check
from kiosk.operations.logs import redact
from kiosk.ports import CardReader, Printer

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
    insurance_backlog: int = 0  # BHYT checks / Coverage writes waiting (the recheck queue)


@dataclass
class AdminTools:
    """Built by ``app/compose.py``."""

    doctor: Callable[[str | None, float], list[Check]]  # (config path, timeout) -> the doctor's checks
    open_printer: Callable[[Config], Printer | None]  # a printer of its own, when the kiosk has none running
    open_card_reader: Callable[[Config], CardReader | None]
    detect: Callable[[], dict[str, list]]  # attached devices: {"reader"|"camera"|"printer": [(label, changes)]}


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {redact(str(exc))}"


class AdminActions:
    def __init__(self, config_path: str | Path | None, config: Config, services, tools: AdminTools):
        self.config_path = Path(config_path) if config_path else None
        self.config = config
        self.services = services
        self.tools = tools

    def attach(self, services, tools: AdminTools) -> None:
        """The kiosk's services are built: use its live devices from now on."""
        self.services, self.tools = services, tools

    # -- status ---------------------------------------------------------------
    def doctor(self, timeout_s: float = 8.0) -> list[Check]:
        return self.tools.doctor(str(self.config_path) if self.config_path else None, timeout_s)

    def detect_devices(self) -> dict[str, list]:
        return self.tools.detect()

    # -- settings -------------------------------------------------------------
    def save(self, changes: dict) -> Config:
        """Validate and write ``{"section.key": value}``; raises ConfigError
        (nothing written) when a value is refused."""
        if self.config_path is None:
            raise ConfigError("no config file: start the kiosk with --config FILE to change settings here")
        self.config = update_config(self.config_path, changes)
        log.info("settings changed", extra={"event": "admin.settings_saved", "keys": sorted(changes)})
        return self.config

    # -- devices --------------------------------------------------------------
    def test_print(self) -> Outcome:
        printer = self.services.printer if self.services is not None else None
        own = printer is None
        try:
            if own:
                printer = self.tools.open_printer(self.config)
                if printer is None:
                    return Outcome(False, 'printer.driver = "none": no printer configured')
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
                try:
                    printer.close()
                except Exception:  # noqa: BLE001 - the outcome above is what staff need
                    log.warning("test printer not closed cleanly", extra={"event": "admin.printer_close_failed"})

    def test_card_read(self, can: str, timeout_s: float = 15.0) -> Outcome:
        """Open the chip with the card's 6-digit CAN and read it; shows only
        the masked ID, the assurance level and the time taken."""
        try:  # ASCII digits only (kiosk.identity.input_rules): "１２３４５６" is refused, not converted
            can = input_rules.can(can, "CAN")
        except input_rules.InputRefused as exc:
            return Outcome(False, str(exc))
        reader = self.services.card_reader if self.services is not None else None
        own = reader is None
        try:
            if own:
                reader = self.tools.open_card_reader(self.config)
                if reader is None:
                    return Outcome(False, 'card_reader.driver = "none": no reader configured')
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
                    reader.close()
                except Exception:  # noqa: BLE001 - the outcome above is what staff need
                    log.warning("test reader not closed cleanly", extra={"event": "admin.reader_close_failed"})

    # -- outbox ---------------------------------------------------------------
    def _outbox(self):
        """The running kiosk's offline queue (``kiosk.ports.OutboxAdmin``), or None."""
        return self.services.outbox if self.services is not None else None

    def outbox_view(self) -> OutboxView:
        outbox = self._outbox()
        if outbox is None:
            return OutboxView(available=False)
        rows = [_row_text(e) for e in outbox.entries(limit=200) if e.get("state") != "delivered"]
        rows += [_insurance_row_text(e) for e in outbox.insurance_entries(limit=100)]
        incidents = list(outbox.incidents()) if callable(getattr(outbox, "incidents", None)) else []
        return OutboxView(True, outbox.backlog(), outbox.oldest_waiting_age_s(), rows, incidents,
                          outbox.insurance_backlog())

    def retry_outbox(self) -> Outcome:
        """Every waiting or given-up entry gets a fresh attempt budget and the
        sender is woken to deliver them now."""
        outbox = self._outbox()
        if outbox is None:
            return Outcome(False, "this kiosk has no offline outbox")
        try:
            ids = [e["id"] for e in outbox.entries(limit=1000) if e.get("state") in ("dead", "pending")]
            retried = sum(bool(outbox.retry(i)) for i in ids)
            rechecks = [e["id"] for e in outbox.insurance_entries(limit=1000) if e.get("state") in ("dead", "pending")]
            retried += sum(bool(outbox.retry_insurance(i)) for i in rechecks)
            outbox.deliver_now()
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


def _insurance_row_text(entry: dict) -> str:
    """One BHYT recheck for IT: number, state, what is left, tries, age, last error or outcome."""
    age = f"{(time.time() - entry['created_at']) / 60:.0f} min ago" if entry.get("created_at") else ""
    left = "write the Coverage" if entry.get("has_answer") else "check the card"
    parts = [f"BHYT #{entry.get('id')}", str(entry.get("state", "")),
             "" if entry.get("state") == "done" else left, f"tries {entry.get('tries_total', 0)}", age]
    if entry.get("state") == "done" and entry.get("outcome"):
        parts.append(entry["outcome"])
    elif entry.get("last_error"):
        parts.append(f"last error: {entry['last_error']}")
    return redact("  ·  ".join(p for p in parts if p))

