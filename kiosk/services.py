"""What the kiosk's screens and commands use: the ports, assembled.

``KioskServices`` is built by the composition root (``app/compose.py``) from
the config — real or simulated devices, the HIS adapter, the check-in
pipeline (``kiosk.checkin.pipeline``) — and closed by whoever built it. It
holds only ports, so the UI and the core never know which adapter is behind
them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from kiosk.checkin.online import identity_for_booking
from kiosk.config.loader import Config
from kiosk.domain import Department, Identity
from kiosk.errors import HisUnavailable
from kiosk.identity.patient_code import PatientCodeMatch, patient_for_code
from kiosk.insurance.card_check import InsuranceGateway
from kiosk.ports import (
    MODE_ONLINE,
    CardReader,
    CheckInHandler,
    Clock,
    ConnectivityMonitor,
    His,
    OutboxAdmin,
    Printer,
    QrScanner,
    Speech,
)

log = logging.getLogger(__name__)


class AlwaysOnline:
    """Connectivity when no offline cache is configured: the HIS is assumed
    reachable and failures surface as errors."""

    def mode(self) -> str:
        return MODE_ONLINE

    def subscribe(self, callback: Callable[[str], None]) -> None:
        callback(MODE_ONLINE)

    def report_unavailable(self, reason: str) -> None:
        pass

    def report_ok(self, reason: str = "") -> None:
        pass


@dataclass
class KioskServices:
    config: Config
    his: His
    checkin: CheckInHandler  # the check-in pipeline; its close() is registered with on_close
    connectivity: ConnectivityMonitor
    clock: Clock
    printer: Printer | None = None
    card_reader: CardReader | None = None
    scanner: QrScanner | None = None
    speech: Speech | None = None  # spoken guidance (speech.driver)
    insurance: InsuranceGateway | None = None  # the BHYT card check (insurance.gateway; None when "none")
    # Departments when the HIS cannot answer (the offline cache's copy), if any.
    department_fallback: Callable[[], list[Department]] | None = None
    outbox: OutboxAdmin | None = None  # the offline queue, for the admin screen
    closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def departments(self) -> list[Department]:
        """The HIS's departments; the cached copy when the kiosk is offline or
        the HIS does not answer (and a cache is there)."""
        fallback = self.department_fallback
        if fallback is not None and self.connectivity.mode() != MODE_ONLINE:
            return fallback()
        try:
            return self.his.list_departments()
        except HisUnavailable as exc:
            if fallback is None:
                raise
            self.connectivity.report_unavailable(str(exc))
            return fallback()

    def identity_for_booking(self, code: str) -> Identity:
        """The identity behind an appointment QR's booking code (asks the HIS)."""
        return identity_for_booking(self.his, code, self.clock.now())

    def patient_for_code(self, code: str) -> PatientCodeMatch:
        """Who a hospital patient code belongs to, with their appointments today (asks the HIS)."""
        return patient_for_code(self.his, code, self.clock.now())

    def waiting_counts(self) -> dict[str, int]:
        return self.his.waiting_counts(self.clock.now().date())

    def on_close(self, close: Callable[[], None]) -> None:
        """Register a clean-up; they run in reverse order (threads stop before
        the database they use closes)."""
        self.closers.append(close)

    def close(self) -> None:
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # closing must go on for the other parts
                log.exception("error while closing a part of the kiosk", extra={"event": "kiosk.close_failed"})
        self.closers.clear()
