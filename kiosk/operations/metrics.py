"""Health metrics for fleet monitoring, in the Prometheus text format
(``prometheus_client``, the kept library, behind a small façade).

Off by default; ``[metrics] enabled = true`` serves them on
``http://127.0.0.1:<port>/metrics`` (localhost only: a node exporter or an SSH
tunnel collects them; the kiosk never listens on the hospital network). The
endpoint itself is ``app/metrics_http.py``: the core keeps the registry and
knows no network.

Every metric is declared once, below, as a ``Metric`` object (name, type,
help, label names) — the names and labels existing scrapes, dashboards and
alert rules rely on. Any module counts through the object, without knowing
whether the server runs::

    from kiosk.operations import metrics
    metrics.CHECKINS.inc(mode="online")
    metrics.OUTBOX_BACKLOG.set(3)
    metrics.HIS_REQUEST_SECONDS.observe(0.21)
    metrics.register_collector(lambda: metrics.OUTBOX_BACKLOG.set(store.backlog()))

A metric that is not declared here cannot be counted (the registry takes
``Metric`` objects, not names), and a label that is not declared is refused.
Labels must never hold personal data (mode, device, department, error class).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from kiosk.operations.build_info import config_hash, software_version

log = logging.getLogger(__name__)

COUNTER, GAUGE, HISTOGRAM = "counter", "gauge", "histogram"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Metric:
    """One declared metric. ``inc`` / ``set`` / ``observe`` record it in the
    process's registry (``REGISTRY``), or in the one given (tests)."""

    name: str
    kind: str  # COUNTER / GAUGE / HISTOGRAM
    help: str
    labels: tuple[str, ...] = ()

    def inc(self, amount: float = 1.0, *, registry: Registry | None = None, **labels) -> None:
        (registry or REGISTRY).inc(self, amount, **labels)

    def set(self, value: float, *, registry: Registry | None = None, **labels) -> None:
        (registry or REGISTRY).set(self, value, **labels)

    def observe(self, value: float, *, registry: Registry | None = None, **labels) -> None:
        (registry or REGISTRY).observe(self, value, **labels)

    def value(self, *, registry: Registry | None = None, **labels) -> float | None:
        return (registry or REGISTRY).value(self, **labels)


# The heartbeat a fleet dashboard needs.
UP = Metric("kiosk_up", GAUGE, "1 while the kiosk process runs")
INFO = Metric("kiosk_info", GAUGE, "constant 1; labels carry the kiosk id, its software version and the hash of its "
              "settings (secrets left out)", ("kiosk", "version", "config_hash"))
# Check-ins and tickets.
CHECKINS = Metric("kiosk_checkins_total", COUNTER, "check-ins completed, by mode (online/offline)", ("mode",))
CHECKIN_FAILURES = Metric("kiosk_checkin_failures_total", COUNTER, "check-ins that ended in an error, by error class",
                          ("error",))
CHECKIN_REPEATS = Metric("kiosk_checkin_repeats_total", COUNTER,
                         "second check-ins the same day for a department where the patient's visit is open: "
                         "shown the number they have (kiosk.repeat_visits = refuse), by mode", ("mode",))
PRINT_FAILURES = Metric("kiosk_print_failures_total", COUNTER, "tickets that could not be printed")
# Devices.
PRINTER_PAPER = Metric("kiosk_printer_paper", GAUGE, "paper state: 2 ok, 1 low, 0 out, -1 unknown/offline")
DEVICE_UP = Metric("kiosk_device_up", GAUGE, "1 when the device answers, 0 when it is missing or offline "
                   "(device: printer, card_reader, camera)", ("device",))
# The outbox (offline check-ins).
OUTBOX_BACKLOG = Metric("kiosk_outbox_backlog", GAUGE, "offline check-ins waiting to be sent to the HIS")
OUTBOX_OLDEST_AGE = Metric("kiosk_outbox_oldest_age_seconds", GAUGE, "age of the oldest outbox entry")
OUTBOX_DEAD = Metric("kiosk_outbox_dead", GAUGE,
                     "outbox entries that gave up and wait for staff (admin screen: retry)")
OUTBOX_DEAD_LETTERS = Metric("kiosk_outbox_dead_letters_total", COUNTER,
                             "outbox entries that gave up after their last attempt")
OUTBOX_RECOVERY_NEEDED = Metric("kiosk_outbox_recovery_needed", GAUGE,
                                "open incidents of the outbox database (damaged, emptied, replaced): queued "
                                "check-ins may need `kiosk outbox recover`")
OUTBOX_DUPLICATES = Metric("kiosk_outbox_duplicates_total", COUNTER,
                           "outbox entries the HIS already had (a retry found them)")
OUTBOX_SAME_DAY_DUPLICATES = Metric(
    "kiosk_outbox_same_day_duplicates_total", COUNTER,
    "offline check-ins delivered onto the patient's open visit of the day made by another check-in "
    "(two kiosks offline): no second visit was made; the patient holds two tickets")
# The HIS.
HIS_REQUEST_SECONDS = Metric("kiosk_his_request_seconds", HISTOGRAM, "HIS request latency")
LAST_SYNC = Metric("kiosk_last_sync_timestamp_seconds", GAUGE, "unix time of the last successful HIS sync")
ONLINE = Metric("kiosk_online", GAUGE, "1 when the HIS is reachable, 0 in offline mode")
# BHYT (health insurance).
INSURANCE_CHECKS = Metric("kiosk_insurance_checks_total", COUNTER,
                          "BHYT card checks, by outcome status (valid, expired, unavailable…)", ("status",))
INSURANCE_GATEWAY_REQUESTS = Metric("kiosk_insurance_gateway_requests_total", COUNTER,
                                    "requests to the BHXH gateway, by kind (token/check)", ("kind",))
INSURANCE_GATEWAY_SECONDS = Metric("kiosk_insurance_gateway_seconds", HISTOGRAM,
                                   "BHXH gateway request latency, by kind (token/check)", ("kind",))
INSURANCE_GATEWAY_FAILURES = Metric("kiosk_insurance_gateway_failures_total", COUNTER,
                                    "BHYT checks the gateway gave no answer about the card: unavailable (down, slow, "
                                    "garbled) or refused (the kiosk's account or staff identity)", ("status",))
INSURANCE_QUEUE_BACKLOG = Metric("kiosk_insurance_queue_backlog", GAUGE,
                                 "BHYT card checks or Coverage writes waiting to be retried")
INSURANCE_QUEUE_DEAD = Metric("kiosk_insurance_queue_dead", GAUGE,
                              "BHYT rechecks that gave up and wait for staff (admin screen: retry)")
INSURANCE_QUEUE_DONE = Metric("kiosk_insurance_queue_done_total", COUNTER, "BHYT rechecks done (answered and recorded)")
INSURANCE_QUEUE_DEAD_LETTERS = Metric("kiosk_insurance_queue_dead_letters_total", COUNTER,
                                      "BHYT rechecks that gave up after their last attempt")
INSURANCE_LATE_INVALID = Metric("kiosk_insurance_late_invalid_total", COUNTER,
                                "cards found invalid only after the visit was registered (the reception desk must "
                                "check)")
# Text from the HIS or the BHXH gateway that held hidden characters (removed before use; kiosk.identity.text_safety).
HIS_TEXT_HIDDEN = Metric("kiosk_his_text_hidden_total", COUNTER, "HIS texts that held control or invisible "
                         "format characters, removed before use (resource type, field)", ("resource", "field"))
INSURANCE_TEXT_HIDDEN = Metric("kiosk_insurance_text_hidden_total", COUNTER, "BHXH gateway answer fields that held "
                               "control or invisible format characters, removed before use", ("field",))

# The admin screen's PIN pad.
ADMIN_PIN_FAILURES = Metric("kiosk_admin_pin_failures_total", COUNTER, "wrong PINs typed on the admin screen's PIN pad")
ADMIN_PIN_LOCKOUT_ROUNDS = Metric("kiosk_admin_pin_lockout_rounds", GAUGE,
                                  "admin PIN lockouts in a row since the last right PIN (0 = none; each round locks "
                                  "longer)")

# The queue service (`kiosk queue-server`): slow and abusive clients kept out.
QUEUE_CONNECTIONS_REFUSED = Metric("kiosk_queue_connections_refused_total", COUNTER,
                                   "queue service connections closed at once: their client address had "
                                   "queue_web.max_connections_per_client open already")
QUEUE_CONNECTIONS_EVICTED = Metric("kiosk_queue_connections_evicted_total", COUNTER,
                                   "queue service connections closed for being slow, by reason (header_timeout, "
                                   "body_timeout, displaced: a newer connection of the same address took its place)",
                                   ("reason",))
QUEUE_FEEDS_REFUSED = Metric("kiosk_queue_feeds_refused_total", COUNTER,
                             "new board feeds refused, by reason (client: queue_web.max_new_feeds_per_client; "
                             "full: queue_web.max_room_sets feeds with screens)", ("reason",))

# Every metric, in the order above: what the registry serves.
KNOWN: tuple[Metric, ...] = tuple(v for v in dict(globals()).values() if isinstance(v, Metric))
BY_NAME: dict[str, Metric] = {m.name: m for m in KNOWN}

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
        self._metrics: dict[str, object] = {}
        # Counters without labels are served from the start at 0, so that a
        # rate or an alert sees their first increment.
        for metric in KNOWN:
            if metric.kind == COUNTER and not metric.labels:
                self._series(metric, COUNTER, {})

    def _series(self, metric: Metric, kind: str, labels: dict):
        if not isinstance(metric, Metric):
            raise TypeError(f"metrics are declared once as Metric objects in kiosk.operations.metrics, "
                            f"not named by a string ({metric!r})")
        if metric.kind != kind:
            raise ValueError(f"metric {metric.name} is a {metric.kind}, not a {kind}")
        if sorted(labels) != sorted(metric.labels):
            raise ValueError(f"metric {metric.name} takes labels {', '.join(metric.labels) or '(none)'}, "
                             f"got {', '.join(labels)}")
        with self._lock:
            found = self._metrics.get(metric.name)
            if found is None:
                cls = {COUNTER: Counter, GAUGE: Gauge, HISTOGRAM: Histogram}[metric.kind]
                extra = {"buckets": self.buckets} if metric.kind == HISTOGRAM else {}
                found = cls(metric.name, metric.help, metric.labels, registry=self.registry, **extra)
                self._metrics[metric.name] = found
        return found.labels(**{k: str(v) for k, v in labels.items()}) if metric.labels else found

    def register_collector(self, fn) -> None:
        """Call ``fn()`` before each scrape to refresh gauges that are cheap to
        read (e.g. the outbox backlog from SQLite). A collector that raises is
        skipped for that scrape; it never breaks the endpoint."""
        self.collectors.append(fn)

    def inc(self, metric: Metric, amount: float = 1.0, **labels) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        self._series(metric, COUNTER, labels).inc(amount)

    def set(self, metric: Metric, value: float, **labels) -> None:
        self._series(metric, GAUGE, labels).set(value)

    def observe(self, metric: Metric, value: float, **labels) -> None:
        self._series(metric, HISTOGRAM, labels).observe(value)

    def value(self, metric: Metric | str, **labels) -> float | None:
        """Current value of a counter or gauge (tests, the admin screen); None when never set.
        Reading may name the metric by its exposition name."""
        metric = BY_NAME.get(metric) if isinstance(metric, str) else metric
        if metric is None or metric.name not in self._metrics:
            return None
        name = metric.name
        sample = name if metric.kind != COUNTER or name.endswith("_total") else name + "_total"
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


def register_collector(fn) -> None:
    REGISTRY.register_collector(fn)


def set_paper_state(printer_status: str) -> None:
    """Record a ``kiosk.ports.PRINTER_*`` status as the paper gauge, and the
    printer as up (it answered: ok, low, out) or down (offline). An unknown
    status (a printer that cannot report) leaves ``kiosk_device_up`` as it was."""
    PRINTER_PAPER.set(PAPER_VALUES.get(printer_status, -1))
    if printer_status in ("ok", "paper_low", "paper_out"):
        set_device_up("printer", True)
    elif printer_status == "offline":
        set_device_up("printer", False)


def set_device_up(device: str, up: bool) -> None:
    """A device (``DEVICES``) answers (True) or is missing/offline (False)."""
    DEVICE_UP.set(1 if up else 0, device=device)


def set_info(config, registry: Registry | None = None) -> None:
    """``kiosk_info{kiosk, version, config_hash} 1``: which kiosk runs what."""
    INFO.set(1, registry=registry, kiosk=config.kiosk.id, version=software_version(), config_hash=config_hash(config))
