"""Camera QR scanning: capture thread, decoders, cascade, scanner adapter and
simulator. ``camera_scanner(config)`` and ``simulated_scanner(config)`` give
a ``kiosk.ports.QrScanner`` (``app.compose.build_scanner`` picks by
``camera.driver``); its ``diagnose()`` checks the camera for ``kiosk doctor``.

OpenCV, zbar and zxing-cpp are imported when a scanner is built or a check
runs, not when this package is imported.
"""
from __future__ import annotations

import time

from devices.camera.errors import CameraError, CameraLost, CameraUnavailable, EndOfStream, safe_source
from kiosk.config.loader import Config
from kiosk.operations.diagnostics import FAIL, OK, WARN, Check

__all__ = ["camera_checks", "camera_scanner", "simulated_scanner", "decode_file", "make_capture", "CameraError", "CameraLost",
           "CameraUnavailable", "EndOfStream"]


def make_capture(config: Config, on_state=None, *, lockstep: bool = False, loop_files: bool = True):
    """The capture thread for ``camera.source`` (not started)."""
    from devices.camera.capture import CaptureThread

    cam = config.camera
    return CaptureThread(cam.source, cam.width, cam.height, frame_timeout_s=cam.frame_timeout_s,
                         reconnect_s=cam.reconnect_s, loop_files=loop_files, lockstep=lockstep,
                         on_state=on_state, max_image_pixels=cam.max_image_pixels,
                         max_image_bytes=cam.max_image_bytes)


def make_cascade(config: Config):
    from devices.camera.cascade import Cascade

    return Cascade(roi=config.camera.roi or None)


def simulated_scanner(config: Config):
    """A scripted camera that shows the codes the demo panel or a test asks for."""
    from devices.camera.simulator import SimulatedScanner

    return SimulatedScanner(repeat_after_s=config.camera.repeat_after_s)


def camera_scanner(config: Config, *, loop_files: bool = True):
    """The OpenCV camera (or file) in ``camera.source`` and the decoder cascade.
    ``loop_files=False``: a video file in ``camera.source`` is played once."""
    from devices.camera.scanner import QrScanLoop

    cam = config.camera
    return QrScanLoop(lambda on_state: make_capture(config, on_state, loop_files=loop_files),
                      lambda: make_cascade(config), repeat_after_s=cam.repeat_after_s,
                      poll_timeout_s=cam.frame_timeout_s, checks=lambda: camera_checks(config))


def decode_file(config: Config, path: str) -> dict:
    """The QR codes in the first frame of an image or video file, read through
    the kiosk's own capture thread and cascade: ``frame`` (WxH), ``decode_ms``,
    ``codes`` [(text, decoder)], or ``error`` naming what went wrong."""
    import copy

    result: dict = {"codes": []}
    config = copy.deepcopy(config)
    config.camera.source = path
    capture = make_capture(config, lockstep=True, loop_files=False)
    cascade = make_cascade(config)
    try:
        capture.start()
        frame = capture.latest(0, timeout=10.0)
        h, w = frame.image.shape[:2]
        result["frame"] = f"{w}x{h}"
        started = time.perf_counter()
        decoded = cascade.decode(frame.image)
        result["decode_ms"] = round((time.perf_counter() - started) * 1000, 2)
        result["codes"] = [(d.text, d.decoder) for d in decoded]
    except CameraError as exc:
        result["error"] = str(exc)
    finally:
        capture.stop()
        cascade.close()
    return result


def measure_fps(config: Config, seconds: float = 2.0) -> tuple[float, tuple[int, int] | None]:
    """Frames per second actually received from ``camera.source`` and the
    frame size. Raises CameraError when no frame arrives."""
    capture = make_capture(config).start()
    try:
        first = capture.latest(0)
        started, count, last = time.monotonic(), 0, first
        while time.monotonic() - started < seconds:
            last = capture.latest(last.seq)
            count += 1
        elapsed = time.monotonic() - started
        h, w = first.image.shape[:2]
        return count / elapsed if elapsed > 0 else 0.0, (w, h)
    finally:
        capture.stop()


def camera_checks(config: Config) -> list[Check]:
    """The decoders, and the frames the configured source really delivers (opened for 2 s)."""
    cam = config.camera
    checks = [_decoders_check()]
    label = safe_source(cam.source)
    try:
        fps, size = measure_fps(config)
    except CameraError as exc:
        checks.append(Check("camera.frames", FAIL, str(exc),
                            "plug the camera in and set camera.source (0, /dev/videoN, a URL or a file); "
                            "list cameras with: ls /dev/video*"))
        return checks
    w, h = size
    status = OK if fps >= 5 else WARN
    detail = f"{fps:.1f} frames/s at {w}×{h} from {label}"
    fix = "" if status == OK else "the camera delivers under 5 frames/s: check USB bandwidth and lighting"
    if (w, h) != (cam.width, cam.height) and status == OK:
        status, fix = WARN, f"camera gives {w}×{h}, config asks {cam.width}×{cam.height}: set camera.width/height"
    checks.append(Check("camera.frames", status, detail, fix))
    return checks


def _decoders_check() -> Check:
    try:
        from devices.camera.cascade import Cascade

        Cascade().close()
    except (ImportError, OSError, RuntimeError) as exc:
        return Check("camera.decoders", FAIL, f"QR decoders unavailable: {type(exc).__name__}: {exc}",
                     "install libzbar0 (apt) and the zxing-cpp, pyzbar, opencv-python-headless wheels")
    return Check("camera.decoders", OK, "zxing-cpp, zbar (raw bytes) and OpenCV loaded")
