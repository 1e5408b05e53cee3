"""Health metrics for fleet monitoring, in the Prometheus text format.

Off by default; ``[metrics] enabled = true`` serves them on
``http://127.0.0.1:<port>/metrics`` (localhost only: a node exporter or an SSH
tunnel collects them; the kiosk never listens on the hospital network).

Any module can count without knowing whether the server runs::

    from kiosk import metrics
    metrics.inc("kiosk_checkins_total", mode="online")
    metrics.set("kiosk_outbox_backlog", 3)
    metrics.observe("kiosk_his_request_seconds", 0.21)
    metrics.register_collector(lambda: metrics.set("kiosk_outbox_backlog", store.backlog()))

Known metric names carry help text and a type (``KNOWN``); others are accepted
as untyped. Labels must never hold personal data (mode, device, department).
"""
from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)

COUNTER, GAUGE, HISTOGRAM = "counter", "gauge", "histogram"

# name -> (type, help). The heartbeat a fleet dashboard needs.
KNOWN: dict[str, tuple[str, str]] = {
    "kiosk_up": (GAUGE, "1 while the kiosk process runs"),
    "kiosk_info": (GAUGE, "constant 1; labels carry the kiosk id and version"),
    "kiosk_checkins_total": (COUNTER, "check-ins completed, by mode (online/offline)"),
    "kiosk_checkin_failures_total": (COUNTER, "check-ins that ended in an error, by error class"),
    "kiosk_print_failures_total": (COUNTER, "tickets that could not be printed"),
    "kiosk_printer_paper": (GAUGE, "paper state: 2 ok, 1 low, 0 out, -1 unknown/offline"),
    "kiosk_outbox_backlog": (GAUGE, "offline check-ins waiting to be sent to the HIS"),
    "kiosk_outbox_oldest_age_seconds": (GAUGE, "age of the oldest outbox entry"),
    "kiosk_outbox_dead": (GAUGE, "outbox entries that gave up and wait for staff (admin screen: retry)"),
    "kiosk_outbox_dead_letters_total": (COUNTER, "outbox entries that gave up after their last attempt"),
    "kiosk_outbox_recovery_needed": (GAUGE, "open incidents of the outbox database (damaged, emptied, replaced): "
                                            "queued check-ins may need `kiosk outbox recover`"),
    "kiosk_outbox_duplicates_total": (COUNTER, "outbox entries the HIS already had (a retry found them)"),
    "kiosk_his_request_seconds": (HISTOGRAM, "HIS request latency"),
    "kiosk_last_sync_timestamp_seconds": (GAUGE, "unix time of the last successful HIS sync"),
    "kiosk_online": (GAUGE, "1 when the HIS is reachable, 0 in offline mode"),
}

DEFAULT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

PAPER_VALUES = {"ok": 2, "paper_low": 1, "paper_out": 0, "offline": -1, "unknown": -1}


def _label_key(labels: dict) -> tuple:
    return tuple(sorted((str(k), str(v)) for k, v in labels.items()))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _fmt_labels(key: tuple, extra: tuple = ()) -> str:
    pairs = list(key) + list(extra)
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _fmt_value(v: float) -> str:
    if v == float("inf"):
        return "+Inf"
    return repr(float(v)) if not float(v).is_integer() else str(int(v))


class Registry:
    """Thread-safe counters, gauges and histograms keyed by name and labels."""

    def __init__(self, buckets=DEFAULT_BUCKETS):
        self._lock = threading.Lock()
        self._values: dict[str, dict[tuple, float]] = {}
        self._hist: dict[str, dict[tuple, list]] = {}
        self._types: dict[str, str] = {}
        self._collectors: list = []
        self.buckets = tuple(buckets)

    def register_collector(self, fn) -> None:
        """Call ``fn()`` before each scrape to refresh gauges that are cheap to
        read (e.g. the outbox backlog from SQLite). A collector that raises is
        skipped for that scrape; it never breaks the endpoint."""
        self._collectors.append(fn)

    def _check_type(self, name: str, kind: str) -> None:
        known = KNOWN.get(name, (None,))[0]
        seen = self._types.setdefault(name, known or kind)
        if seen != kind:
            raise ValueError(f"metric {name} is a {seen}, not a {kind}")

    def inc(self, name: str, amount: float = 1.0, **labels) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        with self._lock:
            self._check_type(name, COUNTER)
            series = self._values.setdefault(name, {})
            key = _label_key(labels)
            series[key] = series.get(key, 0.0) + amount

    def set(self, name: str, value: float, **labels) -> None:
        with self._lock:
            self._check_type(name, GAUGE)
            self._values.setdefault(name, {})[_label_key(labels)] = float(value)

    def observe(self, name: str, value: float, **labels) -> None:
        with self._lock:
            self._check_type(name, HISTOGRAM)
            series = self._hist.setdefault(name, {})
            state = series.setdefault(_label_key(labels), [[0] * len(self.buckets), 0, 0.0])
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    state[0][i] += 1
            state[1] += 1
            state[2] += value

    def value(self, name: str, **labels) -> float | None:
        """Current value of a counter or gauge (tests, the admin screen)."""
        with self._lock:
            return self._values.get(name, {}).get(_label_key(labels))

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._hist.clear()
            self._types.clear()
            self._collectors.clear()

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        for collect in list(self._collectors):
            try:
                collect()
            except Exception:  # noqa: BLE001 - one broken source must not hide the others
                log.warning("metrics collector failed", extra={"event": "metrics.collector_failed",
                                                               "collector": getattr(collect, "__name__", "?")})
        lines: list[str] = []
        with self._lock:
            for name in sorted({*self._values, *self._hist}):
                kind = self._types.get(name, "untyped")
                help_text = KNOWN.get(name, (None, name))[1]
                lines.append(f"# HELP {name} {help_text}")
                lines.append(f"# TYPE {name} {kind}")
                for key, v in sorted(self._values.get(name, {}).items()):
                    lines.append(f"{name}{_fmt_labels(key)} {_fmt_value(v)}")
                for key, (counts, count, total) in sorted(self._hist.get(name, {}).items()):
                    for bound, c in zip(self.buckets, counts):
                        lines.append(f"{name}_bucket{_fmt_labels(key, (('le', _fmt_value(bound)),))} {c}")
                    lines.append(f"{name}_bucket{_fmt_labels(key, (('le', '+Inf'),))} {count}")
                    lines.append(f"{name}_sum{_fmt_labels(key)} {_fmt_value(total)}")
                    lines.append(f"{name}_count{_fmt_labels(key)} {count}")
        return "\n".join(lines) + "\n"


REGISTRY = Registry()


def inc(name: str, amount: float = 1.0, **labels) -> None:
    REGISTRY.inc(name, amount, **labels)


def set(name: str, value: float, **labels) -> None:  # noqa: A001 - the name the brief promises
    REGISTRY.set(name, value, **labels)


def observe(name: str, value: float, **labels) -> None:
    REGISTRY.observe(name, value, **labels)


def register_collector(fn) -> None:
    REGISTRY.register_collector(fn)


def set_paper_state(printer_status: str) -> None:
    """Record a ``kiosk.ports.PRINTER_*`` status as the paper gauge."""
    REGISTRY.set("kiosk_printer_paper", PAPER_VALUES.get(printer_status, -1))


class _Handler(BaseHTTPRequestHandler):
    registry: Registry = REGISTRY

    def do_GET(self):  # noqa: N802 - http.server API
        if self.path.split("?")[0] not in ("/metrics", "/"):
            self.send_error(404, "only /metrics here")
            return
        body = self.registry.render().encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):  # keep scrapes out of the journal
        pass


class MetricsServer:
    """The /metrics endpoint on 127.0.0.1, served from a daemon thread."""

    def __init__(self, port: int = 0, registry: Registry = REGISTRY, host: str = "127.0.0.1"):
        handler = type("MetricsHandler", (_Handler,), {"registry": registry})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}/metrics"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="metrics-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_metrics_server(config, registry: Registry = REGISTRY) -> MetricsServer | None:
    """Start the endpoint when ``[metrics] enabled = true``; None otherwise.
    A port already in use is logged and the kiosk keeps running without it."""
    if not config.metrics.enabled:
        return None
    try:
        server = MetricsServer(config.metrics.port, registry)
    except OSError as exc:
        log.error("metrics port unavailable", extra={"event": "metrics.start_failed",
                                                     "port": config.metrics.port, "error": exc.strerror})
        return None
    registry.set("kiosk_up", 1)
    registry.set("kiosk_info", 1, kiosk=config.kiosk.id)
    log.info("metrics served", extra={"event": "metrics.started", "url": server.url})
    return server
