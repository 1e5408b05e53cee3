"""One thread per device: every call into a device library runs here.

pyscard contexts, python-escpos connections and serial ports are not
thread-safe and can block for a long time, so each device owns one
``DeviceWorker``: a job queue served by one daemon thread. Callers wait for
their job with a timeout; a job that has not started when its caller gives up
is dropped (cancelled), one already running finishes on the device thread
(transports have their own I/O timeouts) and later jobs queue behind it, so a
hung device never hangs the kiosk.

``idle`` is called on the device thread every ``idle_every_s`` while no job
is waiting — the card reader polls for cards and readers there. Errors raised
by a job are handed to its caller; errors raised by ``idle`` are logged and
the thread goes on.

    worker = DeviceWorker("printer")
    status = worker.call(transport.read_status, timeout=2.0)   # raises DeviceTimeout
    worker.close()
"""
from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Callable, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class DeviceTimeout(Exception):
    """The device did not finish the job in time (a running job may still finish later)."""


class DeviceWorker:
    def __init__(self, name: str, *, idle: Callable[[], None] | None = None, idle_every_s: float = 0.25,
                 on_exit: Callable[[], None] | None = None,
                 timeout_error: Callable[[str], Exception] = DeviceTimeout):
        self.name = name
        self.idle = idle
        self.idle_every_s = idle_every_s
        self.on_exit = on_exit
        self.timeout_error = timeout_error
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def on_device_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def start(self) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name} worker is closed")
            if not self.running:
                # Daemon: a device stuck in a blocking call must not keep the kiosk from exiting.
                self._thread = threading.Thread(target=self._loop, name=f"{self.name}-device", daemon=True)
                self._thread.start()

    def submit(self, fn: Callable[[], T]) -> Future:
        """Queue ``fn`` and return its future without waiting."""
        self.start()
        future: Future = Future()
        self._jobs.put((fn, future))
        return future

    def call(self, fn: Callable[[], T], timeout: float) -> T:
        """Run ``fn`` on the device thread and return its result; its exception
        is raised here. After ``timeout`` seconds raise ``timeout_error``."""
        if self.on_device_thread():
            return fn()  # a job calling a helper of its own device
        future = self.submit(fn)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()  # dropped if it has not started yet
            raise self.timeout_error(f"{self.name} did not answer within {timeout:g} s") from None
        except CancelledError:
            raise self.timeout_error(f"{self.name} was closed before the job ran") from None

    def close(self, timeout: float = 2.0) -> None:
        """Stop after the job in progress; queued jobs are cancelled."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        self._jobs.put(None)
        if not self.on_device_thread():
            thread.join(timeout)

    def reopen(self) -> None:
        """Allow ``start`` again after ``close`` (a device stopped and started again)."""
        with self._lock:
            if self.running:
                return
            self._closed = False
            self._thread = None
            self._jobs = queue.SimpleQueue()  # nothing left over from before the close

    def _loop(self) -> None:
        try:
            while True:
                try:
                    job = self._jobs.get(timeout=self.idle_every_s) if self.idle else self._jobs.get()
                except queue.Empty:
                    self._run_idle()
                    continue
                if job is None:
                    break
                fn, future = job
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(fn())
                except BaseException as exc:  # handed to the caller, never lost
                    future.set_exception(exc)
                if self.idle:
                    self._run_idle()
        finally:
            self._cancel_queued()
            if self.on_exit:
                try:
                    self.on_exit()
                except Exception:
                    log.exception("%s: cleanup on exit failed", self.name)

    def _run_idle(self) -> None:
        try:
            self.idle()
        except Exception:  # a failed poll must not kill the device thread
            log.exception("%s: idle poll failed", self.name)

    def _cancel_queued(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                job[1].cancel()
