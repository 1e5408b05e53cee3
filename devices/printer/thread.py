"""The printer's own thread: every call into python-escpos (which is not
thread-safe and blocks on slow serial lines) runs here, one job at a time,
and every caller waits with a timeout.

A job that overruns its timeout keeps the thread busy until the transport
gives up (sockets and serial ports have their own timeouts); later jobs queue
behind it and time out in turn, so a hung printer never hangs the kiosk.
"""
from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Callable, TypeVar

T = TypeVar("T")


class DeviceThreadTimeout(Exception):
    """The job did not finish in time (it may still be running)."""


class DeviceThread:
    def __init__(self, name: str = "printer"):
        self.name = name
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def ident(self) -> int | None:
        return self._thread.ident if self._thread else None

    def _ensure_started(self) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name} thread is closed")
            if self._thread is None:
                # Daemon: a printer stuck in a blocking write must not keep the kiosk from exiting.
                self._thread = threading.Thread(target=self._loop, name=f"{self.name}-device", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the caller, never lost
                future.set_exception(exc)

    def call(self, fn: Callable[[], T], timeout: float) -> T:
        """Run ``fn`` on the device thread and return its result, or raise
        DeviceThreadTimeout after ``timeout`` seconds."""
        if threading.current_thread() is self._thread:
            return fn()  # already on the device thread (a job calling a helper)
        self._ensure_started()
        future: Future = Future()
        self._jobs.put((fn, future))
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()  # drops it if it has not started yet
            raise DeviceThreadTimeout(f"{self.name} did not answer within {timeout:g} s") from None

    def close(self, timeout: float = 2.0) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._jobs.put(None)
            thread.join(timeout)
