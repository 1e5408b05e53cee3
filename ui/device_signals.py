"""Device and connectivity events as Qt signals.

The card reader, the camera and the connectivity monitor call back from their
own threads; emitting a Qt signal from there queues the call onto the GUI
thread (the Electrum-plugin habit). The printer has no push events, so its
status is polled on a worker every few seconds — the status bar and the
welcome screen then warn *before* a patient starts.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.ports import DEVICE_ERROR, PRINTER_OFFLINE, PRINTER_UNKNOWN
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)
NONE = "none"  # the kiosk has no such device (driver = "none")
STARTING = "starting"  # the device is still being set up


class DeviceBridge(QObject):
    card_event = Signal(str)       # CARD_INSERTED / CARD_REMOVED / DEVICE_*
    qr_code = Signal(str)
    camera_event = Signal(str)     # DEVICE_*, QR_UNREADABLE / QR_READABLE (a hint, not a state)
    connectivity = Signal(str)     # MODE_ONLINE / MODE_OFFLINE
    printer_status = Signal(str)   # PRINTER_* or NONE
    speech_event = Signal(str)     # HEADPHONES_IN / HEADPHONES_OUT, SPEECH_FAILED / SPEECH_PLAYED

    def __init__(self, services, runner: TaskRunner, poll_ms: int = 5000, parent=None):
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self.refresh_printer)
        self._polling = False
        self._stopped = False

    def start(self) -> None:
        s = self.services
        if s.card_reader is not None:
            self.runner.run(lambda: self._start_device("card_reader", lambda: s.card_reader.start(self._card)))
        if s.scanner is not None:
            self.runner.run(lambda: self._start_device(
                "camera", lambda: s.scanner.start(self._qr, self._camera)))
        if s.speech is not None:
            self.runner.run(lambda: self._start_device("speech", lambda: s.speech.start(self._speech)))
        s.connectivity.subscribe(self._connectivity)
        self.connectivity.emit(s.connectivity.mode())
        if s.printer is None:
            self.printer_status.emit(NONE)
        else:
            self.refresh_printer()
            self._poll.start()

    def _start_device(self, name: str, start) -> None:
        try:
            start()
        except Exception as exc:  # noqa: BLE001 - a device that cannot start is shown, not fatal
            log.error("device did not start", extra={"event": "ui.device_start_failed", "device": name,
                                                     "error": type(exc).__name__})
            if name in ("card_reader", "camera"):
                (self.card_event if name == "card_reader" else self.camera_event).emit(DEVICE_ERROR)

    # Callbacks from device threads: only emit (never touch widgets here).
    def _card(self, event: str) -> None:
        if not self._stopped:
            self.card_event.emit(event)

    def _qr(self, text: str) -> None:
        if not self._stopped:
            self.qr_code.emit(text)

    def _camera(self, event: str) -> None:
        if not self._stopped:
            self.camera_event.emit(event)

    def _speech(self, event: str) -> None:
        if not self._stopped:
            self.speech_event.emit(event)

    def _connectivity(self, mode: str) -> None:
        if not self._stopped:
            self.connectivity.emit(mode)

    def refresh_printer(self) -> None:
        """Ask the printer for its status on a worker (one request at a time)."""
        printer = self.services.printer
        if printer is None or self._polling or self._stopped:
            return
        self._polling = True

        def ask() -> str:
            try:
                return printer.status()
            except Exception as exc:  # noqa: BLE001 - an unreadable status is "offline", never OK
                log.warning("printer status failed", extra={"event": "ui.printer_status_failed",
                                                            "error": type(exc).__name__})
                return PRINTER_OFFLINE

        self.runner.run(ask, self._printer_answer)

    def _printer_answer(self, status: str) -> None:
        self._polling = False
        self.printer_status.emit(status or PRINTER_UNKNOWN)

    def stop(self) -> None:
        self._stopped = True
        self._poll.stop()
        for device in (self.services.card_reader, self.services.scanner):
            if device is not None:
                try:
                    device.stop()
                except Exception:  # noqa: BLE001 - shutting down anyway
                    log.warning("device stop failed", extra={"event": "ui.device_stop_failed"})
