"""Abusive clients for the queue service's tests and its load benchmark, on
loopback only (127.0.0.1), bounded in count and in time.

``Slowloris`` holds ``count`` connections that trickle a request head one byte
at a time and never finish it; a connection the server closes is opened again
(as an attacker would), until ``max_opens`` connections were opened or
``stop()``. ``EventReader`` is an ordinary screen: one event stream read on its
own thread, its events kept with their arrival time.
"""
from __future__ import annotations

import json
import selectors
import socket
import threading
import time

import requests

HOST = "127.0.0.1"


class Slowloris:
    def __init__(self, port: int, count: int, *, every_s: float = 0.5, max_opens: int = 800,
                 max_seconds: float = 60.0, reopen: bool = True, reopen_per_s: float = 1000.0):
        self.port, self.count, self.every_s = port, count, every_s
        self.max_opens, self.reopen, self.reopen_per_s = max_opens, reopen, reopen_per_s
        self.deadline = time.monotonic() + max_seconds  # it stops by itself
        self.selector = selectors.DefaultSelector()
        self.open: set[socket.socket] = set()
        self.opens = 0
        self.closed_by_server = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Slowloris":
        for _ in range(self.count):
            self._open_one()
        self._thread.start()
        return self

    def _open_one(self) -> None:
        if self.opens >= self.max_opens:
            return
        self.opens += 1
        try:
            s = socket.create_connection((HOST, self.port), timeout=5)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        except OSError:
            self.closed_by_server += 1
            return
        s.setblocking(False)
        self.selector.register(s, selectors.EVENT_READ)
        self.open.add(s)

    def _drop(self, s: socket.socket) -> None:
        if s in self.open:
            self.open.discard(s)
            self.selector.unregister(s)
            s.close()
            self.closed_by_server += 1

    def _run(self) -> None:
        next_byte = started = time.monotonic()
        while not self._stop.is_set() and time.monotonic() < self.deadline:
            for key, _ in self.selector.select(timeout=0.05) if self.open else ():
                try:
                    if key.fileobj.recv(4096):
                        continue  # an answer: not what a slow client gets
                except BlockingIOError:
                    continue
                except OSError:
                    pass
                self._drop(key.fileobj)
            if time.monotonic() >= next_byte:
                next_byte = time.monotonic() + self.every_s
                for s in list(self.open):
                    try:
                        s.send(b"a")
                    except BlockingIOError:
                        pass
                    except OSError:
                        self._drop(s)
            if self.reopen:
                budget = self.count + (time.monotonic() - started) * self.reopen_per_s
                while len(self.open) < self.count and self.opens < min(self.max_opens, budget):
                    self._open_one()
            elif not self.open:
                time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for s in list(self.open):
            self.selector.unregister(s)
            s.close()
        self.open.clear()


class EventReader:
    """One event stream, read on its own thread: ``events`` holds (time, name, data)."""

    def __init__(self, url: str, headers: dict | None = None):
        self.url, self.headers = url, headers or {}
        self.events: list[tuple[float, str, dict]] = []
        self.status = 0
        self.opened = threading.Event()
        self._response = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with requests.get(self.url, headers=self.headers, stream=True, timeout=(5, 30)) as r:
                self._response = r
                self.status = r.status_code
                self.opened.set()
                name = ""
                for line in r.iter_lines(decode_unicode=True):
                    if line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        self.events.append((time.monotonic(), name, json.loads(line[5:])))
        except (requests.exceptions.RequestException, AttributeError, ValueError):
            pass
        finally:
            self.opened.set()

    def named(self, name: str, since: float = 0.0) -> list[dict]:
        return [d for t, n, d in list(self.events) if n == name and t >= since]

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        self._thread.join(5)
