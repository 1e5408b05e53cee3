"""Frame capture with OpenCV ``VideoCapture`` on its own thread.

Why a thread and a one-frame slot: a camera delivers 30 frames a second
whether or not the decoder keeps up. The capture thread reads continuously
and keeps only the newest frame (latest-frame-wins), so the decoder always
sees what is in front of the camera now and no backlog grows. The same code
reads a device index, ``/dev/videoN``, a stream URL, or a video/image file —
tests and the demo use files. ``lockstep=True`` (tests, ``kiosk scan-image``)
makes the thread wait until each frame was taken, so none is dropped.

Camera lost (no frame within ``frame_timeout_s``) or cannot be opened: the
state changes to DEVICE_MISSING, reported through ``on_state``, and the
thread reopens the source every ``reconnect_s`` until it delivers again.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from devices.camera.errors import CameraLost, CameraUnavailable, EndOfStream, safe_source
from kiosk.ports import DEVICE_ERROR, DEVICE_MISSING, DEVICE_READY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    seq: int  # 1, 2, 3… per capture thread
    image: np.ndarray  # BGR (or grey) uint8
    at: float  # time.monotonic() when read


def parse_source(spec: str | int) -> int | str:
    """'0' -> device index 0; anything else (path, URL) as given."""
    if isinstance(spec, int):
        return spec
    text = str(spec).strip()
    return int(text) if text.isdigit() else text


def is_file_source(spec: str | int) -> bool:
    source = parse_source(spec)
    return isinstance(source, str) and "://" not in source and not source.startswith("/dev/") \
        and (os.path.isfile(source) or "%" in source)


class FrameSlot:
    """Holds the newest frame; readers wait for one newer than they saw."""

    def __init__(self, lockstep: bool = False) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._taken = True
        self._closed: Exception | None = None
        self._failing: Exception | None = None
        self.lockstep = lockstep
        self.dropped = 0

    def put(self, frame: Frame, stop: threading.Event) -> None:
        with self._cond:
            if self.lockstep:
                while not self._taken and not stop.is_set():
                    self._cond.wait(0.05)
            elif not self._taken:
                self.dropped += 1
            self._frame, self._taken, self._failing = frame, False, None
            self._cond.notify_all()

    def take(self, after_seq: int, timeout: float) -> Frame | None:
        """The newest frame with ``seq > after_seq``, or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                frame = self._frame
                if frame is not None and frame.seq > after_seq:
                    self._taken = True
                    self._cond.notify_all()
                    return frame
                if self._closed is not None:
                    raise self._closed
                if self._failing is not None:
                    raise self._failing
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def fail(self, reason: Exception) -> None:
        """The source is down: readers get ``reason`` until the next frame."""
        with self._cond:
            self._failing = reason
            self._cond.notify_all()

    def close(self, reason: Exception) -> None:
        with self._cond:
            self._closed = reason
            self._cond.notify_all()


class CaptureThread:
    """Reads frames from one source on a dedicated thread ("camera-capture")."""

    def __init__(self, source: str | int, width: int = 1280, height: int = 720, *,
                 frame_timeout_s: float = 3.0, reconnect_s: float = 2.0, loop_files: bool = True,
                 lockstep: bool = False, pace_files: bool = True,
                 on_state: Callable[[str], None] | None = None,
                 open_capture: Callable[[int | str], object] | None = None,
                 max_image_pixels: int | None = None, max_image_bytes: int | None = None) -> None:
        self.source = parse_source(source)
        self.label = safe_source(str(source))
        self.width, self.height = width, height
        self.frame_timeout_s = frame_timeout_s
        self.reconnect_s = reconnect_s
        self.is_file = is_file_source(source)
        self.loop_files = loop_files
        self.pace_files = pace_files and not lockstep
        self.slot = FrameSlot(lockstep=lockstep)
        self.state = "starting"
        self.last_error: Exception | None = None
        self.frames_read = 0
        self._on_state = on_state if on_state is not None else (lambda _state: None)
        self._open_capture = open_capture or _open_cv_capture
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seq = 0
        # image files are checked (size from the header, truncation) before
        # OpenCV decodes them: devices.camera.image_file
        self.max_image_pixels = max_image_pixels
        self.max_image_bytes = max_image_bytes
        self._checked_file: tuple | None = None

    # --- consumer side ---------------------------------------------------------

    def start(self) -> "CaptureThread":
        self._thread = threading.Thread(target=self._run, name="camera-capture", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        self.slot.close(EndOfStream(f"camera {self.label}: stopped"))  # wakes a waiting reader
        if self._thread is not None:
            self._thread.join(timeout)

    def latest(self, after_seq: int = 0, timeout: float | None = None) -> Frame:
        """Newest frame after ``after_seq``. Raises CameraLost when none arrives
        within the frame timeout, EndOfStream when a file ended."""
        wait = self.frame_timeout_s if timeout is None else timeout
        frame = self.slot.take(after_seq, wait)
        if frame is None:
            raise self.last_error if isinstance(self.last_error, CameraUnavailable) else \
                CameraLost(f"camera {self.label}: no frame within {wait:.1f} s (camera.frame_timeout_s)")
        return frame

    # --- capture thread ----------------------------------------------------------

    def _set_state(self, state: str, error: Exception | None = None) -> None:
        self.last_error = error
        if state != self.state:
            self.state = state
            log.info("camera %s: %s%s", self.label, state, f" ({error})" if error else "")
            if state == "ended":  # a file that was read to its end is not a fault
                return
            try:
                self._on_state({"ready": DEVICE_READY, "missing": DEVICE_MISSING}.get(state, DEVICE_ERROR))
            except Exception:  # a listener's bug must not kill the capture thread
                log.exception("camera state listener failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            cap = None
            self.is_file = is_file_source(self.source)  # a file may appear after start
            try:
                self._check_file()
                cap = self._open_capture(self.source)
                if cap is None or not cap.isOpened():
                    raise CameraUnavailable(f"camera {self.label}: cannot be opened (camera.source)")
                if not self.is_file:
                    _request_size(cap, self.width, self.height)
                outcome = self._read_until_failure(cap)
            except CameraUnavailable as exc:
                outcome = exc
            except Exception as exc:  # OpenCV backend errors
                outcome = CameraUnavailable(f"camera {self.label}: {type(exc).__name__}")
            finally:
                if cap is not None:
                    try:
                        cap.release()
                    except Exception:
                        pass
            if isinstance(outcome, EndOfStream):
                self._set_state("ended", outcome)
                self.slot.close(outcome)
                return
            if outcome is None:  # a looped file reached its end: reopen at once
                continue
            self._set_state("missing", outcome)
            self.slot.fail(outcome)
            self._stop.wait(self.reconnect_s)

    def _check_file(self) -> None:
        """Refuse an image file that is too large or damaged (once per file version)."""
        if not (self.is_file and self.max_image_pixels and isinstance(self.source, str)
                and os.path.isfile(self.source)):
            return
        st = os.stat(self.source)
        version = (self.source, st.st_mtime_ns, st.st_size)
        if version != self._checked_file:
            from devices.camera.image_file import check_image_file

            check_image_file(self.source, self.max_image_pixels, self.max_image_bytes)
            self._checked_file = version

    def _too_large(self, image) -> CameraUnavailable | None:
        """A frame larger than ``camera.max_image_pixels`` (a source that ignores
        the size asked for) is refused before any decoder sees it."""
        pixels = _frame_pixels(image)
        if self.max_image_pixels and pixels > self.max_image_pixels:
            return CameraUnavailable(f"camera {self.label}: frame of {pixels:,} pixels, more than "
                                     f"camera.max_image_pixels = {self.max_image_pixels:,}")
        return None

    def _read_until_failure(self, cap) -> Exception | None:
        last_ok = time.monotonic()
        frames_this_open = 0
        interval = 0.0
        if self.is_file and self.pace_files:
            fps = cap.get(_cv2().CAP_PROP_FPS) or 0
            interval = 1.0 / fps if 0 < fps <= 120 else 0.1
        while not self._stop.is_set():
            ok, image = cap.read()
            now = time.monotonic()
            if ok and image is not None:
                too_large = self._too_large(image)
                if too_large is not None:
                    return too_large
                self._seq += 1
                self.frames_read += 1
                frames_this_open += 1
                last_ok = now
                self.slot.put(Frame(self._seq, image, now), self._stop)
                self._set_state("ready")
                if interval:
                    self._stop.wait(max(0.0, interval - (time.monotonic() - now)))
                continue
            if self.is_file:
                if frames_this_open == 0:
                    return CameraUnavailable(f"camera {self.label}: file has no readable frame")
                if self.loop_files:
                    return None
                return EndOfStream(f"camera {self.label}: end of file")
            if now - last_ok > self.frame_timeout_s:
                return CameraLost(f"camera {self.label}: no frame for {self.frame_timeout_s:.1f} s")
            self._stop.wait(0.02)
        return None


def _frame_pixels(image) -> int:
    shape = getattr(image, "shape", None) or (0, 0)
    return int(shape[0]) * int(shape[1]) if len(shape) >= 2 else 0


def _cv2():
    import cv2

    return cv2


def _open_cv_capture(source: int | str):
    cv2 = _cv2()
    if isinstance(source, str) and source.startswith("/dev/video"):
        return cv2.VideoCapture(source, cv2.CAP_V4L2)
    return cv2.VideoCapture(source)


def _request_size(cap, width: int, height: int) -> None:
    cv2 = _cv2()
    cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # fewer stale frames in the driver's queue
