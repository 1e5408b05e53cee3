"""The kiosk's /metrics endpoint on 127.0.0.1 (the standard library's HTTP
server on a daemon thread), serving ``kiosk.operations.metrics``' registry to
Prometheus. It lives with the entry points: the core keeps the registry and
knows no network.
"""
from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kiosk.operations.metrics import CONTENT_TYPE, REGISTRY, UP, Registry, set_info

log = logging.getLogger("kiosk.metrics")


class _Handler(BaseHTTPRequestHandler):
    registry: Registry = REGISTRY

    def do_GET(self):  # noqa: N802 - http.server API
        if self.path.split("?")[0] not in ("/metrics", "/"):
            self.send_error(404, "only /metrics here")
            return
        body = self.registry.render().encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
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
    UP.set(1, registry=registry)
    set_info(config, registry)
    log.info("metrics served", extra={"event": "metrics.started", "url": server.url})
    return server
