"""Composition root: builds the kiosk's services from the TOML config.

The one place that chooses real or simulated adapters. Device packages are
imported lazily (only when their section's driver is not "none"), so the core
stays free of Qt and device libraries.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Callable

from kiosk.checkin import CheckInService, identity_for_booking
from kiosk.clock import SystemClock
from kiosk.config import Config
from kiosk.domain import Department, Identity
from kiosk.errors import HisUnavailable
from kiosk.fhir.his import FhirHis
from kiosk.ports import MODE_ONLINE, CardReader, CheckInHandler, ConnectivityMonitor, Printer, QrScanner

log = logging.getLogger(__name__)


class AlwaysOnline:
    """Connectivity when no offline cache is configured: the HIS is assumed
    reachable and failures surface as errors."""

    def mode(self) -> str:
        return MODE_ONLINE

    def subscribe(self, callback: Callable[[str], None]) -> None:
        callback(MODE_ONLINE)


@dataclass
class KioskServices:
    config: Config
    his: FhirHis
    checkin: CheckInHandler
    connectivity: ConnectivityMonitor
    printer: Printer | None = None
    card_reader: CardReader | None = None
    scanner: QrScanner | None = None
    clock: SystemClock = field(default_factory=SystemClock)
    # Departments when the HIS cannot answer (the offline cache's copy), if any.
    department_fallback: Callable[[], list[Department]] | None = None
    offline: object | None = None  # offline_cache's parts (outbox, sender…) when wired
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def departments(self) -> list[Department]:
        """The HIS's departments; the cached copy when the kiosk is offline or
        the HIS does not answer (and a cache is wired)."""
        fallback = self.department_fallback
        if fallback is not None and self.connectivity.mode() != MODE_ONLINE:
            return fallback()
        try:
            return self.his.list_departments()
        except HisUnavailable as exc:
            if fallback is None:
                raise
            report = getattr(self.connectivity, "report_unavailable", None)
            if report is not None:
                report(str(exc))
            return fallback()

    def identity_for_booking(self, code: str) -> Identity:
        """The identity behind an appointment QR's booking code (asks the HIS)."""
        return identity_for_booking(self.his, code, self.clock.now().date())

    def waiting_counts(self) -> dict[str, int]:
        return self.his.waiting_counts(self.clock.now().date())

    def close(self) -> None:
        for close in reversed(self._closers):
            try:
                close()
            except Exception:  # closing must go on for the other devices
                log.exception("error while closing a device", extra={"event": "device.close_failed"})
        self._closers.clear()


def _device(config: Config, section: str, module: str, builder: str):
    driver = getattr(config, section).driver
    if driver == "none":
        return None
    mod = importlib.import_module(module)
    return getattr(mod, builder)(config)


def build_services(config: Config, *, with_devices: bool = True) -> KioskServices:
    clock = SystemClock(config.kiosk.timezone)
    his = FhirHis(config)
    checkin: CheckInHandler = CheckInService(his, clock, config)
    services = KioskServices(config=config, his=his, checkin=checkin,
                             connectivity=AlwaysOnline(), clock=clock)
    services._closers.append(his.client.close)
    _wire_offline(services)
    if with_devices:
        services.printer = _device(config, "printer", "devices.printer", "build_printer")
        services.card_reader = _device(config, "card_reader", "devices.card", "build_card_reader")
        services.scanner = _device(config, "camera", "devices.camera", "build_scanner")
        for dev in (services.printer, services.card_reader, services.scanner):
            if dev is not None and hasattr(dev, "stop"):
                services._closers.append(dev.stop)
            elif dev is not None and hasattr(dev, "close"):
                services._closers.append(dev.close)
    return services


def _wire_offline(services: KioskServices) -> None:
    """Offline-first check-in (issue 6) wraps the online service when the
    offline cache is installed; until then the kiosk is online-only."""
    try:
        offline = importlib.import_module("offline_cache.wiring")
    except ModuleNotFoundError:
        return
    offline.wire(services)


def build_insurance_gateway(config: Config):
    """The BHYT card check (``kiosk.insurance.InsuranceGateway``) chosen by
    ``insurance.gateway``: the BHXH adapter pointed at the real gateway or at
    the simulator (same protocol); None when "none"."""
    if config.insurance.gateway == "none":
        return None
    from kiosk.bhxh import BhxhGateway

    return BhxhGateway(config.insurance, clock=SystemClock(config.kiosk.timezone))
