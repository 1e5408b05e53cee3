"""Running the queue service: uvicorn serving ``create_app``.

uvicorn's own access log is off (it would print ticket tokens); the service
logs its own, redacted (``queue_web.guard``). ``X-Forwarded-For`` is believed
from ``queue_web.trusted_proxies`` only. When the sockets are open,
``on_ready(url)`` is called once (``kiosk queue-server`` prints it as a JSON
line, which tests and scripts wait for).

Connections are guarded before any request exists (``queue_web.connections``):
header and body deadlines, a cap per peer address, slow clients evicted, and
only connections with a request head count in ``limit_concurrency``.
"""
from __future__ import annotations

import logging
from typing import Callable

import uvicorn

from queue_web.app import create_app
from queue_web.connections import ConnectionGuard, ConnectionLimits, protocol_class
from queue_web.hub import QueueWebParts

log = logging.getLogger("queue_web")


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_ready: Callable[[str, int], None] | None,
                 guard: ConnectionGuard):
        super().__init__(config)
        self.on_ready = on_ready
        self.guard = guard

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started and self.servers:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            log.info("queue server listening on http://%s:%d", host, port, extra={"event": "queue_web.listening"})
            if self.on_ready is not None:
                self.on_ready(host, port)

    async def shutdown(self, sockets=None) -> None:
        self.guard.close_waiting()  # uvicorn does not know them: they are not in its connections yet
        await super().shutdown(sockets)
        self.guard.close_waiting()  # any accepted while the listeners closed


def make_server(parts: QueueWebParts, *, host: str, port: int,
                on_ready: Callable[[str, int], None] | None = None) -> uvicorn.Server:
    """The uvicorn server for ``parts`` (``.run()`` serves; ``.should_exit = True`` stops it)."""
    settings = parts.config.queue_web
    http, guard = protocol_class(ConnectionLimits(
        header_timeout_s=settings.header_timeout_s, body_timeout_s=settings.body_timeout_s,
        per_client=settings.max_connections_per_client, exempt=frozenset(settings.trusted_proxies)))
    app = create_app(parts, connections=guard)
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, server_header=False,
        proxy_headers=True, forwarded_allow_ips=list(settings.trusted_proxies), lifespan="on", http=http,
        timeout_graceful_shutdown=3, timeout_keep_alive=5, limit_concurrency=settings.max_streams + 200)
    return _Server(config, on_ready, guard)


def serve(parts: QueueWebParts, *, host: str, port: int,
          on_ready: Callable[[str, int], None] | None = None) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn stops gracefully, then the feeds' pollers stop)."""
    make_server(parts, host=host, port=port, on_ready=on_ready).run()
