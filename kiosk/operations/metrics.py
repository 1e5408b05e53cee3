"""Health metrics for fleet monitoring, in the Prometheus text format
(``prometheus_client``, the kept library, behind a small façade).

Off by default; ``[metrics] enabled = true`` serves them on
``http://127.0.0.1:<port>/metrics`` (localhost only: a node exporter or an SSH
tunnel collects them; the kiosk never listens on the hospital network).

Any module can count without knowing whether the server runs::

    from kiosk.operations import metrics
    metrics.inc("kiosk_checkins_total", mode="online")
    metrics.set("kiosk_outbox_backlog", 3)
    metrics.observe("kiosk_his_request_seconds", 0.21)
    metrics.register_collector(lambda: metrics.set("kiosk_outbox_backlog", store.backlog()))

The kiosk's metrics are declared in ``KNOWN`` (type, help, label names) — the
names and labels existing scrapes and dashboards rely on. A name not declared
there is created on first use with the labels of that call. Labels must never
hold personal data (mode, device, department, error class).
"""
from __future__ import annotations

import logging
import threading

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from kiosk.operations.build_info import config_hash, software_version

log = logging.getLogger(__name__)

COUNTER, GAUGE, HISTOGRAM = "counter", "gauge", "histogram"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# name -> (type, help, label names). The heartbeat a fleet dashboard needs.
KNOWN: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "kiosk_up": (GAUGE, "1 while the kiosk process runs", ()),
    "kiosk_info": (GAUGE, "constant 1; labels carry the kiosk id, its software version and the hash of its "
                          "settings (secrets left out)", ("kiosk", "version", "config_hash")),
    "kiosk_checkins_total": (COUNTER, "check-ins completed, by mode (online/offline)", ("mode",)),
    "kiosk_checkin_failures_total": (COUNTER, "check-ins that ended in an error, by error class", ("error",)),
    "kiosk_print_failures_total": (COUNTER, "tickets that could not be printed", ()),
    "kiosk_printer_paper": (GAUGE, "paper state: 2 ok, 1 low, 0 out, -1 unknown/offline", ()),
    "kiosk_device_up": (GAUGE, "1 when the device answers, 0 when it is missing or offline "
                               "(device: printer, card_reader, camera)", ("device",)),
    "kiosk_outbox_backlog": (GAUGE, "offline check-ins waiting to be sent to the HIS", ()),
    "kiosk_outbox_oldest_age_seconds": (GAUGE, "age of the oldest outbox entry", ()),
    "kiosk_outbox_dead": (GAUGE, "outbox entries that gave up and wait for staff (admin screen: retry)", ()),
    "kiosk_outbox_dead_letters_total": (COUNTER, "outbox entries that gave up after their last attempt", ()),
    "kiosk_outbox_recovery_needed": (GAUGE, "open incidents of the outbox database (damaged, emptied, replaced): "
                                            "queued check-ins may need `kiosk outbox recover`", ()),
    "kiosk_outbox_duplicates_total": (COUNTER, "outbox entries the HIS already had (a retry found them)", ()),
    "kiosk_his_request_seconds": (HISTOGRAM, "HIS request latency", ()),
    "kiosk_last_sync_timestamp_seconds": (GAUGE, "unix time of the last successful HIS sync", ()),
    "kiosk_online": (GAUGE, "1 when the HIS is reachable, 0 in offline mode", ()),
    "kiosk_insurance_checks_total": (COUNTER, "BHYT card checks, by outcome status (valid, expired, unavailable…)",
                                     ("status",)),
    "kiosk_insurance_gateway_requests_total": (COUNTER, "requests to the BHXH gateway, by kind (token/check)",
                                               ("kind",)),
    "kiosk_insurance_gateway_seconds": (HISTOGRAM, "BHXH gateway request latency, by kind (token/check)", ("kind",)),
    "kiosk_insurance_gateway_failures_total": (COUNTER, "BHYT checks the gateway gave no answer about the card: "
                                                        "unavailable (down, slow, garbled) or refused (the kiosk's "
                                                        "account or staff identity)", ("status",)),
    "kiosk_insurance_queue_backlog": (GAUGE, "BHYT card checks or Coverage writes waiting to be retried", ()),
    "kiosk_insurance_queue_dead": (GAUGE, "BHYT rechecks that gave up and wait for staff (admin screen: retry)", ()),
    "kiosk_insurance_queue_done_total": (COUNTER, "BHYT rechecks done (answered and recorded)", ()),
    "kiosk_insurance_queue_dead_letters_total": (COUNTER, "BHYT rechecks that gave up after their last attempt", ()),
    "kiosk_insurance_late_invalid_total": (COUNTER, "cards found invalid only after the visit was registered "
                                                    "(the reception desk must check)", ()),
    "kiosk_admin_pin_failures_total": (COUNTER, "wrong PINs typed on the admin screen's PIN pad", ()),
    "kiosk_admin_pin_lockout_rounds": (GAUGE, "admin PIN lockouts in a row since the last right PIN (0 = none; "
                                              "each round locks longer)", ()),
}

DEVICES = ("printer", "card_reader", "camera")

DEFAULT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

PAPER_VALUES = {"ok": 2, "paper_low": 1, "paper_out": 0, "offline": -1, "unknown": -1}

# A counter's "_created" series doubles every counter line and no dashboard uses it.
prometheus_client.disable_created_metrics()


class Registry:
    """The kiosk's metrics in one ``prometheus_client.CollectorRegistry``."""

    def __init__(self, buckets=DEFAULT_BUCKETS):
        self.buckets = tuple(buckets)
        self._lock = threading.RLock()  # clear() re-creates the counters while holding it
        self.collectors: list = []
        self._reset()

    def _reset(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._metrics: dict[str, tuple[str, object, tuple[str, ...]]] = {}
        # Counters without labels are served from the start at 0, so that a
        # rate or an alert sees their first increment.
        for name, (kind, _, labels) in KNOWN.items():
            if kind == COUNTER and not labels:
                self._metric(name, COUNTER, {})

    def _metric(self, name: str, kind: str, labels: dict):
        with self._lock:
            found = self._metrics.get(name)
            if found is None:
                declared_kind, help_text, names = KNOWN.get(name, (kind, name, tuple(sorted(labels))))
                cls = {COUNTER: Counter, GAUGE: Gauge, HISTOGRAM: Histogram}[declared_kind]
                extra = {"buckets": self.buckets} if declared_kind == HISTOGRAM else {}
                found = (declared_kind, cls(name, help_text, names, registry=self.registry, **extra), names)
                self._metrics[name] = found
        seen_kind, metric, names = found
        if seen_kind != kind:
            raise ValueError(f"metric {name} is a {seen_kind}, not a {kind}")
        if sorted(labels) != sorted(names):
            raise ValueError(f"metric {name} takes labels {', '.join(names) or '(none)'}, got {', '.join(labels)}")
        return metric.labels(**{k: str(v) for k, v in labels.items()}) if names else metric

    def register_collector(self, fn) -> None:
        """Call ``fn()`` before each scrape to refresh gauges that are cheap to
        read (e.g. the outbox backlog from SQLite). A collector that raises is
        skipped for that scrape; it never breaks the endpoint."""
        self.collectors.append(fn)

    def inc(self, name: str, amount: float = 1.0, **labels) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        self._metric(name, COUNTER, labels).inc(amount)

    def set(self, name: str, value: float, **labels) -> None:
        self._metric(name, GAUGE, labels).set(value)

    def observe(self, name: str, value: float, **labels) -> None:
        self._metric(name, HISTOGRAM, labels).observe(value)

    def value(self, name: str, **labels) -> float | None:
        """Current value of a counter or gauge (tests, the admin screen); None when never set."""
        found = self._metrics.get(name)
        if found is None:
            return None
        sample = name if found[0] != COUNTER or name.endswith("_total") else name + "_total"
        return self.registry.get_sample_value(sample, {k: str(v) for k, v in labels.items()})

    def clear(self) -> None:
        with self._lock:
            self.collectors.clear()
            self._reset()

    def refresh(self) -> None:
        """Run the registered collectors (before each scrape)."""
        for collect in list(self.collectors):
            try:
                collect()
            except Exception:  # noqa: BLE001 - one broken source must not hide the others
                log.warning("metrics collector failed", extra={"event": "metrics.collector_failed",
                                                               "collector": getattr(collect, "__name__", "?")})

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4), collectors run first."""
        self.refresh()
        return generate_latest(self.registry).decode("utf-8")


REGISTRY = Registry()


def inc(name: str, amount: float = 1.0, **labels) -> None:
    REGISTRY.inc(name, amount, **labels)


def set(name: str, value: float, **labels) -> None:  # noqa: A001 - the name callers use
    REGISTRY.set(name, value, **labels)


def observe(name: str, value: float, **labels) -> None:
    REGISTRY.observe(name, value, **labels)


def register_collector(fn) -> None:
    REGISTRY.register_collector(fn)


def set_paper_state(printer_status: str) -> None:
    """Record a ``kiosk.ports.PRINTER_*`` status as the paper gauge, and the
    printer as up (it answered: ok, low, out) or down (offline). An unknown
    status (a printer that cannot report) leaves ``kiosk_device_up`` as it was."""
    REGISTRY.set("kiosk_printer_paper", PAPER_VALUES.get(printer_status, -1))
    if printer_status in ("ok", "paper_low", "paper_out"):
        set_device_up("printer", True)
    elif printer_status == "offline":
        set_device_up("printer", False)


def set_device_up(device: str, up: bool) -> None:
    """A device (``DEVICES``) answers (True) or is missing/offline (False)."""
    REGISTRY.set("kiosk_device_up", 1 if up else 0, device=device)


def set_info(config, registry: Registry | None = None) -> None:
    """``kiosk_info{kiosk, version, config_hash} 1``: which kiosk runs what."""
    (registry or REGISTRY).set("kiosk_info", 1, kiosk=config.kiosk.id, version=software_version(),
                               config_hash=config_hash(config))
