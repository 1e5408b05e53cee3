"""Live updates to the browsers: server-sent events, and the caps on them.

A ``Stream`` is one open event stream (a board screen or a phone page): the
hub puts events into its bounded queue from the event loop, and
``EventStreamResponse`` writes them to the connection, with a ``ping``
event every ``heartbeat_s`` so proxies keep it open. The response watches
for the client going away at the same time, so a closed tab frees its place at
once. A stream whose queue overflows (a client that stopped reading) is
closed; the browser reconnects and starts from the current state.

``StreamLimits`` caps open streams per client address and in total; a refused
stream gets a plain-language answer (429 per client, 503 when full).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from typing import Awaitable, Callable

QUEUE_EVENTS = 64
RETRY_MS = 3000  # how soon the browser reconnects after a dropped stream


def event_data(data: dict) -> str:
    """An event's data line: compact JSON, Vietnamese kept as it is."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class Stream:
    """One open event stream; ``send`` and ``close`` run on the event loop."""

    def __init__(self, client: str, kind: str):
        self.client = client
        self.kind = kind  # "board" or "phone"
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_EVENTS)
        self.closed = False
        self.last: dict[str, str] = {}  # event name -> last data sent (phones: send changes only)

    def send(self, event: str, data: dict | str, *, only_if_changed: bool = False) -> None:
        if self.closed:
            return
        text = data if isinstance(data, str) else event_data(data)
        if only_if_changed and self.last.get(event) == text:
            return
        self.last[event] = text
        try:
            self.queue.put_nowait(f"event: {event}\ndata: {text}\n\n")
        except asyncio.QueueFull:
            self.close()  # not reading: drop it, the browser reconnects to the current state

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()


class StreamLimits:
    """Open streams per client and in total (thread-safe)."""

    def __init__(self, per_client: int, total: int):
        self.per_client = per_client
        self.total = total
        self.open: dict[str, int] = {}
        self.count = 0
        self._lock = threading.Lock()

    def acquire(self, client: str) -> str | None:
        """None when the stream may open, else why not: "client" or "total"."""
        with self._lock:
            if self.count >= self.total:
                return "total"
            if self.open.get(client, 0) >= self.per_client:
                return "client"
            self.open[client] = self.open.get(client, 0) + 1
            self.count += 1
            return None

    def release(self, client: str) -> None:
        with self._lock:
            n = self.open.get(client, 0) - 1
            if n > 0:
                self.open[client] = n
            else:
                self.open.pop(client, None)
            self.count = max(0, self.count - 1)


class EventStreamResponse:
    """An ASGI response that streams ``stream``'s events until the client
    leaves or the stream is closed. ``producer`` (optional) runs beside it —
    a phone page's watcher — and is cancelled with it; ``on_close`` runs last."""

    def __init__(self, stream: Stream, *, heartbeat_s: float, on_close: Callable[[], None],
                 producer: Callable[[], Awaitable[None]] | None = None):
        self.stream = stream
        self.heartbeat_s = heartbeat_s
        self.on_close = on_close
        self.producer = producer

    async def __call__(self, scope, receive, send) -> None:
        tasks: list[asyncio.Task] = []
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store"),
                (b"x-accel-buffering", b"no")]})  # nginx: pass each event on at once
            await send({"type": "http.response.body", "body": f"retry: {RETRY_MS}\n\n".encode(), "more_body": True})
            gone = asyncio.ensure_future(_disconnected(receive))
            tasks.append(gone)
            if self.producer is not None:
                tasks.append(asyncio.ensure_future(self.producer()))
            while True:
                getter = asyncio.ensure_future(self.stream.queue.get())
                done, _ = await asyncio.wait({getter, gone}, timeout=self.heartbeat_s,
                                             return_when=asyncio.FIRST_COMPLETED)
                if gone in done:
                    getter.cancel()
                    break
                if getter not in done:
                    getter.cancel()
                    await send({"type": "http.response.body", "body": b"event: ping\ndata: {}\n\n", "more_body": True})
                    continue
                event = getter.result()
                if event is None:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    break
                await send({"type": "http.response.body", "body": event.encode("utf-8"), "more_body": True})
        finally:
            self.stream.close()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.on_close()


async def _disconnected(receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
