"""The offline cache's parts, assembled for the composition root.

``build_parts(config, his)`` opens the local database and returns the parts
(outbox store, reference cache, connectivity monitor, outbox sender, HIS
probe) without starting a thread and without touching anything it did not
build. ``app/compose.py`` gives them to the core's check-in pipeline (its
offline stage ``OutboxCheckIn``), starts the threads and closes them in order:
threads first, the database last.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.config.loader import Config
from kiosk.operations.diagnostics import Check
from kiosk.ports import MODE_ONLINE, His
from offline_cache.connectivity import ConnectivityMonitor
from offline_cache.db import LocalDatabase
from offline_cache.diagnose import diagnose
from offline_cache.insurance_queue import InsuranceQueue
from offline_cache.insurance_sender import InsuranceSender
from offline_cache.integrity import open_database, open_incidents
from offline_cache.outbox import OutboxStore
from offline_cache.prober import Prober
from offline_cache.reference import ReferenceCache
from offline_cache.retention import enforce_retention
from offline_cache.sender import Sender

log = logging.getLogger(__name__)


@dataclass
class OfflineParts:
    config: Config
    database: LocalDatabase
    store: OutboxStore
    reference: ReferenceCache
    monitor: ConnectivityMonitor
    sender: Sender
    prober: Prober
    insurance: InsuranceQueue | None = None  # the BHYT recheck queue (kiosk.ports.CoverageQueue)
    insurance_sender: InsuranceSender | None = None  # its worker, when the kiosk checks cards
    started: bool = False

    def start(self) -> None:
        """The outbox sender, the HIS probe and (when cards are checked) the recheck worker threads."""
        self.sender.start()
        self.prober.start()
        if self.insurance_sender is not None:
            self.insurance_sender.start()
        self.started = True
        log.info("offline cache started", extra={"event": "offline.started", "database": str(self.database.path)})

    def close(self) -> None:
        """Stop the threads (the sender hands back what it claimed), blank what is past
        its retention (``offline_cache.retention``), then close the database."""
        if self.started:
            if self.insurance_sender is not None:
                self.insurance_sender.stop()
            self.prober.stop()
            self.sender.stop()
            self.started = False
        self._enforce_retention()
        self.database.close()

    def _enforce_retention(self) -> None:
        try:
            enforce_retention(self.database, self.config.kiosk.id, self.config.offline.retention_hours)
        except Exception as exc:  # noqa: BLE001 - logged; the next process (or the sender) purges
            log.error("personal data past its retention could not be blanked", extra={
                "event": "retention.purge_failed", "error": type(exc).__name__})

    # -- kiosk.ports.OutboxAdmin: the admin screen's view ------------------------------------
    def entries(self, limit: int = 200) -> list[dict]:
        return self.store.entries(limit=limit)

    def backlog(self) -> int:
        return self.store.backlog()

    def oldest_waiting_age_s(self) -> float | None:
        return self.store.oldest_waiting_age_s()

    def retry(self, entry_id: int) -> bool:
        return self.store.retry(entry_id)

    def deliver_now(self) -> None:
        self.sender.kick()
        if self.insurance_sender is not None:
            self.insurance_sender.kick()

    def insurance_entries(self, limit: int = 200) -> list[dict]:
        return self.insurance.entries(limit=limit) if self.insurance is not None else []

    def insurance_backlog(self) -> int:
        return self.insurance.backlog() if self.insurance is not None else 0

    def retry_insurance(self, entry_id: int) -> bool:
        return self.insurance is not None and self.insurance.retry(entry_id)

    def diagnose(self) -> list[Check]:
        return diagnose(self.config)

    def incidents(self) -> list[str]:
        """Open incidents of the local database (damaged, emptied, replaced:
        ``offline_cache.integrity``), each with what to do."""
        generation = self.database.generation
        return [f"{i.describe()} → {i.fix()}" for i in open_incidents(generation)] if generation else []


def build_parts(config: Config, his: His, gateway=None) -> OfflineParts:
    """The offline parts around ``his``; no thread started. ``gateway`` (a
    ``kiosk.insurance.card_check.InsuranceGateway``) adds the BHYT recheck worker."""
    database = open_database(config)
    store = OutboxStore(database, config.kiosk.id)
    reference = ReferenceCache(database)
    monitor = ConnectivityMonitor(database)
    insurance = InsuranceQueue(database, config.kiosk.id)
    prober = Prober(his, monitor, config, reference)
    sender = Sender(his, store, monitor, config, insurance=insurance, on_his_unavailable=prober.report_failure)
    insurance_sender = InsuranceSender(his, gateway, insurance, config) if gateway is not None else None

    def online(mode: str) -> None:
        if mode == MODE_ONLINE:
            sender.kick()
            if insurance_sender is not None:
                insurance_sender.kick()

    monitor.subscribe(online)
    parts = OfflineParts(config, database, store, reference, monitor, sender, prober, insurance, insurance_sender)
    parts._enforce_retention()  # every process that opens the outbox keeps the retention, not only the sender
    # what the database holds now (dead letters from before a restart, a backlog) is on the
    # metrics endpoint from the start, not only after the workers' first batch
    sender.export_gauges()
    if insurance_sender is not None:
        insurance_sender.export_gauges()
    return parts
