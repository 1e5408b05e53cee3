"""The queue service's connections, guarded before any request exists.

uvicorn (its h11 protocol) alone lets a slow client hold a connection forever
and take the service down:

- ``timeout_keep_alive`` is armed only after a response; a new connection has
  no timer at all, and every byte received cancels the keep-alive timer — so a
  client sending one header byte every few seconds is never closed;
- ``h11_max_incomplete_event_size`` caps the size of a request head, not the
  time it takes;
- ``limit_concurrency`` counts every open connection, including those that
  have not finished a request head: enough trickling connections make every
  real request a 503.

``GuardedH11Protocol`` (uvicorn's ``H11Protocol``, subclassed) adds, per
connection:

- a header deadline (``queue_web.header_timeout_s``) from the moment the
  connection opens or its previous response ends: a request head not complete
  by then closes the connection;
- a body deadline (``queue_web.body_timeout_s``) from the end of the head: a
  request body not complete by then closes the connection;
- a connection counts in uvicorn's concurrency limit only from the end of its
  request head until its response ends (a connection waiting for a head, new or
  kept alive, is not "concurrent work");
- a cap per peer address (``queue_web.max_connections_per_client``), counted
  when the connection is accepted: at the cap, the peer's oldest connection
  still waiting for a request head is evicted to make room (a slow client gives
  way to a real one); when all of the peer's connections are real requests or
  streams, the new one is closed at once.

The peer is the TCP peer: before a request exists there is no
``X-Forwarded-For`` to read. Behind nginx, nginx is the peer of every
connection, so peers listed in ``queue_web.trusted_proxies`` are exempt from
the per-address cap (nginx enforces it: ``limit_conn`` and its own header and
body timeouts in ``deploy/nginx/kiosk-queue-server.conf``); the deadlines
apply to every peer.

Refused and evicted connections are counted (``kiosk_queue_connections_*``)
and logged without the address.
"""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from kiosk.operations import metrics

log = logging.getLogger("queue_web")

REFUSED_LOG_EVERY = 100  # one log line per this many refusals (a flood must not flood the journal)


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout_s: float
    body_timeout_s: float
    per_client: int
    exempt: frozenset[str] = frozenset()  # trusted proxies: they enforce the per-address cap themselves


class ConnectionGuard:
    """The connections of one server, by peer address (event loop only)."""

    def __init__(self, limits: ConnectionLimits):
        self.limits = limits
        self.by_peer: dict[str, OrderedDict[GuardedH11Protocol, None]] = {}
        self.refused = 0
        self.evicted: dict[str, int] = {"header_timeout": 0, "body_timeout": 0, "displaced": 0}

    def admit(self, conn: "GuardedH11Protocol") -> bool:
        """Count a new connection; False: close it at once (its peer is at the cap)."""
        peer = conn.peer
        open_ = self.by_peer.setdefault(peer, OrderedDict())
        if peer not in self.limits.exempt and len(open_) >= self.limits.per_client:
            waiting = next((c for c in open_ if c.awaiting_head and not c.transport.is_closing()), None)
            if waiting is None:
                self.refused += 1
                metrics.QUEUE_CONNECTIONS_REFUSED.inc()
                if self.refused % REFUSED_LOG_EVERY == 1:
                    log.warning("queue server: a client reached its cap of open connections; refusing more",
                                extra={"event": "queue_web.connection_refused", "refused": self.refused})
                return False
            waiting.evict("displaced")
        open_[conn] = None
        return True

    def forget(self, conn: "GuardedH11Protocol") -> None:
        open_ = self.by_peer.get(conn.peer)
        if open_ is not None:
            open_.pop(conn, None)
            if not open_:
                del self.by_peer[conn.peer]

    def counted_eviction(self, reason: str) -> None:
        self.evicted[reason] += 1
        metrics.QUEUE_CONNECTIONS_EVICTED.inc(reason=reason)

    def all(self) -> list["GuardedH11Protocol"]:
        return [c for open_ in self.by_peer.values() for c in open_]

    def close_waiting(self) -> None:
        """At shutdown: close every connection that waits for a request head."""
        for conn in self.all():
            if conn.awaiting_head:
                conn.transport.close()

    def status(self) -> dict:
        conns = self.all()
        waiting = sum(1 for c in conns if c.awaiting_head)
        return {"connections": len(conns), "awaiting_head": waiting, "peers": len(self.by_peer),
                "connections_refused": self.refused, "connections_evicted": dict(self.evicted)}


class _Connection(h11.Connection):
    """h11's server side, telling the protocol when a request head and a request end."""

    def __init__(self, protocol: "GuardedH11Protocol", max_incomplete_event_size: int):
        super().__init__(h11.SERVER, max_incomplete_event_size=max_incomplete_event_size)
        self._protocol = protocol

    def next_event(self):
        event = super().next_event()
        if isinstance(event, h11.Request):
            self._protocol.head_received()
        elif isinstance(event, h11.EndOfMessage):
            self._protocol.body_received()
        return event


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with deadlines and a per-address cap (see the module)."""

    guard: ConnectionGuard  # set on the subclass ``protocol_class`` makes

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conn = _Connection(self, self.conn._max_incomplete_event_size)
        self.peer = "-"
        self.awaiting_head = True
        self.admitted = False
        self._deadline: asyncio.TimerHandle | None = None

    # --- the connection ---
    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.connections.discard(self)  # counted from its first request head on
        self.peer = self.client[0] if self.client else "-"
        if not self.guard.admit(self):
            transport.abort()
            return
        self.admitted = True
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        if self.admitted:
            self.guard.forget(self)
            self.admitted = False
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self.admitted:
            return
        super().data_received(data)

    # --- the request cycle ---
    def _await_head(self) -> None:
        self.awaiting_head = True
        self.connections.discard(self)
        self._arm(self.guard.limits.header_timeout_s, "header_timeout")

    def head_received(self) -> None:
        self.awaiting_head = False
        self.connections.add(self)  # before uvicorn compares the count with limit_concurrency
        self._arm(self.guard.limits.body_timeout_s, "body_timeout")

    def body_received(self) -> None:
        self._cancel_deadline()
        if self.conn.our_state is h11.DONE:  # answered before the body ended: now the next head
            self._await_head()

    def handle_websocket_upgrade(self, event) -> None:
        # the service has no websocket routes: the app refuses it; the connection leaves this protocol
        self._cancel_deadline()
        if self.admitted:
            self.guard.forget(self)
            self.admitted = False
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        if not self.transport.is_closing() and self.conn.their_state is not h11.SEND_BODY:
            self._await_head()  # a pipelined request in super() ends this wait at once
        # (answered while the body is still coming: its deadline runs on, then body_received)
        super().on_response_complete()

    # --- deadlines ---
    def _arm(self, seconds: float, reason: str) -> None:
        self._cancel_deadline()
        self._deadline = self.loop.call_later(seconds, self._expired, reason)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, reason: str) -> None:
        self._deadline = None
        if reason == "header_timeout" and not self.awaiting_head:
            return
        if reason == "body_timeout" and self.conn.their_state is not h11.SEND_BODY:
            return
        self.evict(reason)

    def evict(self, reason: str) -> None:
        """Close a slow connection (no answer: there is no complete request to answer)."""
        if self.transport is None or self.transport.is_closing():
            return
        self._cancel_deadline()
        self.guard.counted_eviction(reason)
        self.guard.forget(self)  # at once: the next connection of this peer may take its place
        self.admitted = False
        self.transport.abort()  # uvicorn's connection_lost tells a handler waiting for the body


def protocol_class(limits: ConnectionLimits) -> tuple[type[GuardedH11Protocol], ConnectionGuard]:
    """A protocol class for one server (uvicorn's ``http=``) and the guard it shares."""
    guard = ConnectionGuard(limits)
    return type("QueueWebH11Protocol", (GuardedH11Protocol,), {"guard": guard}), guard
