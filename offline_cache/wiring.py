"""Plugs the offline cache into the kiosk (called by ``app.compose``).

``wire(services)`` opens the local database, replaces ``services.checkin``
with the offline-aware ``ResilientCheckIn`` and ``services.connectivity``
with the real monitor, starts the outbox sender and the HIS probe threads,
and registers their stop functions so ``services.close()`` ends them.
``services.offline`` gives the UI and the CLI the parts (store, reference
cache, monitor, sender).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.ports import MODE_ONLINE
from kiosk.resilient_checkin import ResilientCheckIn

from .connectivity import ConnectivityMonitor
from .db import LocalDatabase, open_database
from .integrity import OutboxUnavailable
from .outbox import OutboxStore
from .reference import ReferenceCache
from .sender import Prober, Sender

log = logging.getLogger(__name__)


@dataclass
class OfflineParts:
    database: LocalDatabase
    store: OutboxStore
    reference: ReferenceCache
    monitor: ConnectivityMonitor
    sender: Sender
    prober: Prober
    handler: ResilientCheckIn

    def close(self) -> None:
        """Stop the handler's worker pool and close the database (threads, if
        started, are stopped by their owner first)."""
        self.handler.close()
        self.database.close()


def build_parts(config, his, online, clock) -> OfflineParts:
    """The offline parts around an online check-in handler, no thread started:
    the one assembly used by ``build`` (the kiosk), the tests and the benchmarks."""
    database = open_database(config)
    store = OutboxStore(database, config.kiosk.id)
    reference = ReferenceCache(database)
    monitor = ConnectivityMonitor(database)
    sender = Sender(his, store, monitor, config)
    prober = Prober(his, monitor, config, reference)
    handler = ResilientCheckIn(online, store, reference, monitor, clock, config, on_late_online=sender.kick)
    monitor.subscribe(lambda mode: sender.kick() if mode == MODE_ONLINE else None)
    return OfflineParts(database, store, reference, monitor, sender, prober, handler)


def build(services, *, start: bool = True) -> OfflineParts:
    parts = build_parts(services.config, services.his, services.checkin, services.clock)
    database, handler, sender, prober = parts.database, parts.handler, parts.sender, parts.prober
    # Closers run in reverse: threads stop first, the database closes last.
    services._closers.append(database.close)
    services._closers.append(handler.close)
    if start:
        sender.start()
        prober.start()
        services._closers.append(sender.stop)
        services._closers.append(prober.stop)
    return parts


def wire(services) -> OfflineParts | None:
    try:
        parts = build(services)
    except OutboxUnavailable as exc:  # a damaged local database never stops online check-ins
        log.error("offline cache unavailable: online check-ins only", extra={
            "event": "offline.unavailable", "error": str(exc)})
        return None
    services.checkin = parts.handler
    services.connectivity = parts.monitor
    services.offline = parts
    services.department_fallback = parts.reference.departments  # the picker works offline too
    log.info("offline cache wired", extra={"event": "offline.wired", "database": str(parts.database.path)})
    return parts
