"""Run slow work (HIS calls, device calls) off the GUI thread.

Like Anki's ``taskman``: one small worker pool; a result comes back to the GUI
thread through a queued Qt signal, so widgets are only ever touched there.
``run(fn, on_done)`` calls ``on_done(result)`` with ``fn``'s return value; ``fn``
must not raise (``kiosk.journey.work.perform`` turns every failure into an
event) — if it does, the error is logged and ``on_done`` is not called.
"""
from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)


class TaskRunner(QObject):
    _finished = Signal(object, object)  # callback, future

    def __init__(self, workers: int = 4, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kiosk-task")
        self._pending: set[Future] = set()
        # Queued even when the future is already done: a callback never runs
        # inside the caller's own call stack.
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._closed = False

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None) -> Future:
        """Run ``fn()`` on a worker; call ``on_done(result)`` on the GUI thread.
        ``fn`` must not raise (wrap it, as ``kiosk.journey.machine.perform`` does); if it
        does, the error is logged and ``on_done`` is not called."""
        fut = self._pool.submit(fn)
        self._pending.add(fut)
        fut.add_done_callback(lambda f: self._finished.emit(on_done, f))
        return fut

    def _deliver(self, callback, fut: Future) -> None:
        self._pending.discard(fut)
        if self._closed:
            return
        exc = fut.exception()
        if exc is not None:
            log.error("background task failed", extra={"event": "ui.task_failed", "error": type(exc).__name__})
            return
        if callback is not None:
            callback(fut.result())

    def busy(self) -> int:
        """How many tasks are queued or running (tests wait for 0)."""
        return len(self._pending)

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
