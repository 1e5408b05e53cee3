"""The QR scanner adapter (``kiosk.ports.QrScanner``): a frame source, the
decoding cascade and the repeat filter, on a decode thread of its own.

The frame source is the OpenCV capture thread for a real camera or a
scripted source for the simulator; both expose ``start``/``stop``/``latest``
and report DEVICE_* states, so the simulator runs exactly this code.
Callbacks run on the decode thread: the UI re-emits them as Qt signals.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Protocol

from devices.camera.cascade import Cascade, RepeatFilter
from devices.camera.errors import CameraError, EndOfStream
from kiosk.operations import metrics
from kiosk.operations.diagnostics import FAIL, OK, WARN, Check
from kiosk.ports import DEVICE_MISSING, DEVICE_READY, QR_READABLE, QR_UNREADABLE, DeviceEventCallback

log = logging.getLogger(__name__)


class FrameSource(Protocol):
    def start(self): ...

    def stop(self, timeout: float = 3.0) -> None: ...

    def latest(self, after_seq: int = 0, timeout: float | None = None): ...


class QrScanLoop:
    """Decodes the newest frame, reports each new payload once as exact text."""

    def __init__(self, make_source: Callable[[DeviceEventCallback], FrameSource],
                 make_cascade: Callable[[], Cascade] = Cascade, *, repeat_after_s: float = 3.0,
                 poll_timeout_s: float = 1.0, checks: Callable[[], list[Check]] | None = None,
                 unreadable_after_s: float = 2.0) -> None:
        self._make_source = make_source
        self._checks = checks
        self._make_cascade = make_cascade
        self.repeat_after_s = repeat_after_s
        self.unreadable_after_s = unreadable_after_s  # a code seen but not read this long: QR_UNREADABLE
        self._poll_timeout_s = poll_timeout_s
        self._stop = threading.Event()
        self._life = threading.Lock()
        self._thread: threading.Thread | None = None
        self._source: FrameSource | None = None
        self._state: str | None = None
        self._state_lock = threading.Lock()
        self._on_event: DeviceEventCallback = lambda _s: None
        self.frames_decoded = 0
        self.codes_reported = 0

    @property
    def source(self) -> FrameSource | None:
        return self._source

    def start(self, on_code: Callable[[str], None], on_event: DeviceEventCallback) -> None:
        """Build the decoders first, then start the frames: a code shown while
        the decoders were still loading (OpenCV, zxing and zbar take seconds on
        a cold start) would otherwise scroll past unseen, since only the newest
        frame is decoded. Returns once frames are being decoded."""
        if self._thread is not None:
            raise RuntimeError("scanner already started")
        self._stop.clear()
        self._on_event = on_event
        cascade = self._make_cascade()
        try:
            self._source = self._make_source(self._report_state)
            self._source.start()
        except BaseException:
            cascade.close()
            raise
        with self._life:  # stop() never sees a thread that has not started
            self._thread = threading.Thread(target=self._run, args=(on_code, cascade), name="camera-decode",
                                            daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        """The decode thread runs (start() has returned and no file ended)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._source is not None:
            self._source.stop(timeout)
        with self._life:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def diagnose(self) -> list[Check]:
        """While scanning, what the decode loop sees (the camera is busy: it is
        not opened a second time); otherwise the camera is opened and measured."""
        if self._thread is not None and self._thread.is_alive():
            started, decoded = time.monotonic(), self.frames_decoded
            self._stop.wait(1.0)
            rate = (self.frames_decoded - decoded) / (time.monotonic() - started)
            if self._state == DEVICE_MISSING or rate == 0:
                return [Check("camera.frames", FAIL, "the running camera delivers no frames",
                              "check the camera cable and camera.source; restart the kiosk")]
            return [Check("camera.frames", OK if rate >= 5 else WARN, f"{rate:.1f} frames/s decoded while running",
                          "" if rate >= 5 else "under 5 frames/s: check USB bandwidth and lighting")]
        if self._checks is not None:
            return self._checks()
        return [Check("camera.frames", WARN, "camera not running: nothing measured", "start the kiosk")]

    close = stop

    def join(self, timeout: float) -> bool:
        """Wait for the decode thread to finish (a file source that ended)."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def _report_state(self, state: str) -> None:
        with self._state_lock:
            if state == self._state:
                return
            self._state = state
        if state in (DEVICE_MISSING, DEVICE_READY):
            metrics.set_device_up("camera", state == DEVICE_READY)
        try:
            self._on_event(state)
        except Exception:
            log.exception("camera event listener failed")

    def _hint(self, event: str) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("camera event listener failed")

    def _run(self, on_code: Callable[[str], None], cascade: Cascade) -> None:
        repeats = RepeatFilter(hold_s=self.repeat_after_s)
        hint = UnreadableHint(self.unreadable_after_s, self._hint)
        seq = 0
        try:
            while not self._stop.is_set():
                try:
                    frame = self._source.latest(seq, self._poll_timeout_s)
                except EndOfStream:
                    return
                except CameraError as exc:
                    if self._stop.is_set():
                        return
                    log.warning("%s", exc)
                    self._report_state(DEVICE_MISSING)
                    self._stop.wait(0.2)
                    continue
                seq = frame.seq
                self._report_state(DEVICE_READY)
                decoded = cascade.decode(frame.image)
                self.frames_decoded += 1
                hint.frame(bool(decoded), cascade.saw_unreadable, time.monotonic())
                for text in repeats.new_codes([d.text for d in decoded]):
                    self.codes_reported += 1
                    try:
                        on_code(text)
                    except Exception:  # the listener's problem, keep scanning
                        log.exception("QR code listener failed")
        finally:
            cascade.close()


class UnreadableHint:
    """QR_UNREADABLE once a code has been seen but not read for ``after_s`` (the patient
    holds it too far, moving or tilted), QR_READABLE when it is read or has been out of
    view for ``clear_after_s`` (one frame without it does not count: the code flickers)."""

    def __init__(self, after_s: float, report: Callable[[str], None], clear_after_s: float = 1.0) -> None:
        self.after_s, self.clear_after_s, self.report = after_s, clear_after_s, report
        self._since: float | None = None  # first frame of the current unread stretch
        self._last_seen = 0.0
        self._shown = False

    def frame(self, decoded: bool, unreadable: bool, now: float) -> None:
        if unreadable and not decoded:
            if self._since is None or now - self._last_seen > self.clear_after_s:
                self._since = now
            self._last_seen = now
            if not self._shown and now - self._since >= self.after_s:
                self._shown = True
                self.report(QR_UNREADABLE)
            return
        if decoded or now - self._last_seen > self.clear_after_s:
            self._since = None
            if self._shown:
                self._shown = False
                self.report(QR_READABLE)
