"""The decoding cascade and the "report each code once" filter. Every step
reads QR codes and Code 128 barcodes (the patient code on old slips).

The order and preprocessing come from ``benchmarks/bench_qr.py`` (see
BENCHMARKS.md), measured on synthetic degraded frames:

1. zxing-cpp on the frame downscaled to 640 px wide ("small"; skipped when
   the frame is not wider): at 1280×720 it reads ~9 frames in 10 in about a
   quarter of the full-size time, which sets the median.
2. zxing-cpp on the full grey frame: the fastest and best single decoder
   (small codes survive). It also reports symbols it found but could not
   read (``return_errors``): only then do the slower steps run, so an empty
   frame — the usual frame at a kiosk — costs two quick zxing passes.
3. zxing-cpp on an unsharp-masked frame: rescues most blurred frames.
4. zbar (raw-bytes mode) on the unsharp-masked frame: rescues some frames
   that combine blur, noise and rotation, which zxing misses.
5. OpenCV's ArUco-based detector: the slowest; rescues the odd tilted frame.

Frames wider than ``max_width`` are downscaled first (a region of interest,
``roi``, can restrict decoding to where patients hold their card).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from devices.camera.decoders import Decoded, OpenCvDecoder, ZbarDecoder, ZxingDecoder, bytes_to_text, zxing_formats

DEFAULT_STEPS = ("zxing:small", "zxing:grey", "zxing:sharpen", "zbar:sharpen", "opencv:grey")
SMALL_WIDTH = 640  # "small" preprocessing: frames wider than this are downscaled to it


def to_grey(frame: np.ndarray) -> np.ndarray:
    import cv2

    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def sharpen(grey: np.ndarray, sigma: float = 2.0, amount: float = 1.0) -> np.ndarray:
    """Unsharp mask: restores module edges softened by focus or motion blur."""
    import cv2

    blurred = cv2.GaussianBlur(grey, (0, 0), sigma)
    return cv2.addWeighted(grey, 1.0 + amount, blurred, -amount, 0)


def crop_roi(frame: np.ndarray, roi: Sequence[float] | None) -> np.ndarray:
    """Crop to ``roi`` = (x0, y0, x1, y1) as fractions of the frame."""
    if not roi:
        return frame
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = roi
    return frame[int(y0 * h):max(int(y1 * h), int(y0 * h) + 1), int(x0 * w):max(int(x1 * w), int(x0 * w) + 1)]


def downscale(grey: np.ndarray, max_width: int) -> np.ndarray:
    import cv2

    h, w = grey.shape[:2]
    if not max_width or w <= max_width:
        return grey
    f = max_width / w
    return cv2.resize(grey, (max_width, max(1, int(h * f))), interpolation=cv2.INTER_AREA)


class Cascade:
    """Runs the decoding steps in order until one yields a code.

    ``steps`` are ``decoder:preprocessing`` names: decoders ``zxing``,
    ``zbar``, ``opencv``; preprocessing ``grey``, ``small`` (downscaled to
    640 px wide) or ``sharpen``. With ``gate=True`` the steps after the first
    ``zxing:grey`` run only when zxing saw a symbol it could not read."""

    def __init__(self, steps: Sequence[str] = DEFAULT_STEPS, *, max_width: int = 0,
                 roi: Sequence[float] | None = None, gate: bool = True) -> None:
        self.steps = tuple(steps)
        self.max_width = max_width
        self.roi = tuple(roi) if roi else None
        self.gate = gate
        self._decoders: dict[str, object] = {}
        for step in self.steps:
            name, _, prep = step.partition(":")
            if prep not in ("grey", "small", "sharpen"):
                raise ValueError(f"cascade step {step!r}: preprocessing must be grey, small or sharpen")
            if name not in self._decoders:
                self._decoders[name] = _make_decoder(name)
        self.last_step: str | None = None  # which step decoded the last frame (benchmark)
        self.saw_unreadable = False  # the last frame held a symbol zxing saw but no step could read

    def decode(self, frame: np.ndarray) -> list[Decoded]:
        grey = downscale(to_grey(crop_roi(frame, self.roi)), self.max_width)
        sharp = None
        self.last_step = None
        self.saw_unreadable = False
        gated = False
        for step in self.steps:
            name, _, prep = step.partition(":")
            if prep == "sharpen":
                sharp = sharpen(grey) if sharp is None else sharp
                image = sharp
            elif prep == "small":
                if grey.shape[1] <= SMALL_WIDTH:
                    continue  # same as the full frame: a later "grey" step covers it
                image = downscale(grey, SMALL_WIDTH)
            else:
                image = grey
            decoder = self._decoders[name]
            if prep == "grey" and not gated and self.gate and isinstance(decoder, ZxingDecoder):
                gated = True
                found, seen = _zxing_with_errors(decoder, image)
                if found:
                    self.last_step = step
                    return found
                if not seen:
                    return []
                self.saw_unreadable = True
                continue
            found = decoder.decode(image)
            if found:
                self.last_step = step
                self.saw_unreadable = False
                return found
        return []

    def close(self) -> None:
        for decoder in self._decoders.values():
            decoder.close()


def _make_decoder(name: str):
    if name == "zxing":
        return ZxingDecoder()
    if name == "zbar":
        return ZbarDecoder()
    if name == "opencv":
        return OpenCvDecoder(aruco=True)
    raise ValueError(f"unknown decoder {name!r} (known: zxing, zbar, opencv)")


def _zxing_with_errors(decoder: ZxingDecoder, grey: np.ndarray) -> tuple[list[Decoded], bool]:
    """Valid codes, and whether any symbol (QR or Code 128, readable or not) was seen."""
    zx = decoder._zx
    results = zx.read_barcodes(grey, formats=zxing_formats(zx), try_invert=False, return_errors=True)
    valid = [Decoded(bytes_to_text(bytes(r.bytes)), bytes(r.bytes), decoder.name)
             for r in results if r.valid]
    return valid, bool(results)


@dataclass
class RepeatFilter:
    """Reports a payload once while it stays in view.

    A payload seen again within ``hold_s`` seconds of its last sighting is a
    repeat (the same card held in front of the camera, even if a few blurred
    frames in between decoded nothing); after ``hold_s`` without it, it is
    new again (the patient took the card away and came back)."""

    hold_s: float = 2.0
    clock: Callable[[], float] = time.monotonic
    _last_seen: dict[str, float] = field(default_factory=dict)

    def new_codes(self, texts: Sequence[str]) -> list[str]:
        now = self.clock()
        self._last_seen = {t: s for t, s in self._last_seen.items() if now - s <= self.hold_s}
        fresh = []
        for text in texts:
            if text not in self._last_seen and text not in fresh:
                fresh.append(text)
            self._last_seen[text] = now
        return fresh

    def reset(self) -> None:
        self._last_seen.clear()
