"""Synthetic camera frames showing a QR code, clean or degraded the way a
kiosk camera sees a card: blurred, rotated, tilted, noisy, unevenly lit.

Why: the tests, the decoder benchmark and the simulator need frames that
exercise the real decoders without a physical camera. Everything is driven by
a seeded ``numpy.random.Generator`` so a frame set is reproducible.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

CONDITIONS = ("clean", "blur", "rotation", "perspective", "noise", "light", "combined")
SIZES = {"480p": (640, 480), "720p": (1280, 720)}


@lru_cache(maxsize=64)
def qr_modules(payload: str, error: str = "m") -> np.ndarray:
    """The QR symbol as a boolean matrix (True = dark), UTF-8 byte mode and no
    ECI marker, as on the CCCD (this is what trips zbar's charset guess)."""
    import segno

    qr = segno.make(payload, encoding="utf-8", error=error, micro=False, boost_error=False)
    return np.array([[bool(v) for v in row] for row in qr.matrix], dtype=bool)


def qr_image(payload: str, module_px: int, quiet: int = 4, error: str = "m") -> np.ndarray:
    """Grey uint8 image of the symbol, ``module_px`` pixels per module."""
    modules = qr_modules(payload, error)
    padded = np.pad(modules, quiet, constant_values=False)
    img = np.where(padded, 0, 255).astype(np.uint8)
    return np.kron(img, np.ones((module_px, module_px), dtype=np.uint8))


@dataclass(frozen=True)
class Degradation:
    """How one frame is spoiled (all zero = a clean, upright, sharp frame)."""

    angle_deg: float = 0.0
    tilt: float = 0.0  # corner jitter as a fraction of the symbol side (perspective)
    blur_modules: float = 0.0  # Gaussian sigma in modules
    noise_sigma: float = 0.0  # grey levels
    light_low: float = 1.0  # darkest multiplier of the light gradient
    glare: float = 0.0  # added brightness of a soft highlight
    damage: float = 0.0  # share of the modules flipped in the symbol's middle band (smudged, creased, covered)


def degradation_for(condition: str, rng: np.random.Generator) -> Degradation:
    """Random parameters for one of ``CONDITIONS``."""
    small_angle = float(rng.uniform(-4, 4))
    if condition == "clean":
        return Degradation(angle_deg=small_angle, tilt=0.02, noise_sigma=2)
    if condition == "blur":
        return Degradation(angle_deg=small_angle, tilt=0.02, blur_modules=float(rng.uniform(0.3, 0.6)))
    if condition == "rotation":
        return Degradation(angle_deg=float(rng.uniform(0, 360)), tilt=0.02, noise_sigma=2)
    if condition == "perspective":
        return Degradation(angle_deg=small_angle, tilt=float(rng.uniform(0.08, 0.18)), noise_sigma=2)
    if condition == "noise":
        return Degradation(angle_deg=small_angle, tilt=0.02, noise_sigma=float(rng.uniform(25, 50)))
    if condition == "light":
        return Degradation(angle_deg=small_angle, tilt=0.02, light_low=float(rng.uniform(0.15, 0.4)),
                           glare=float(rng.uniform(60, 140)), noise_sigma=3)
    if condition == "combined":
        return Degradation(angle_deg=float(rng.uniform(0, 360)), tilt=float(rng.uniform(0.04, 0.1)),
                           blur_modules=float(rng.uniform(0.2, 0.4)), noise_sigma=float(rng.uniform(10, 22)),
                           light_low=float(rng.uniform(0.4, 0.7)), glare=float(rng.uniform(0, 60)))
    raise ValueError(f"unknown condition {condition!r} (known: {', '.join(CONDITIONS)})")


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    import cv2

    small = rng.integers(40, 200, size=(h // 16 + 1, w // 16 + 1, 3), dtype=np.uint8)
    small = cv2.GaussianBlur(small, (0, 0), 0.6)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def render_frame(payload: str | None, size: tuple[int, int], rng: np.random.Generator,
                 deg: Degradation = Degradation(), module_px: float | None = None) -> np.ndarray:
    """A BGR camera frame of ``size`` (w, h) showing the QR of ``payload`` on a
    light card over a textured background; ``payload=None`` gives a frame with
    a blank card (nothing to decode)."""
    import cv2

    w, h = size
    frame = _background(rng, w, h).astype(np.float32)
    symbol = qr_image(payload, 1) if payload is not None else np.full((29, 29), 255, np.uint8)
    n = symbol.shape[0]
    if deg.damage > 0 and payload is not None:  # finder patterns whole: the symbol is seen, not read
        r0, r1, c0, c1 = int(n * 0.35), int(n * 0.65), 13, n - 13
        band = symbol[r0:r1, c0:c1]
        symbol = symbol.copy()
        symbol[r0:r1, c0:c1] = np.where(rng.random(band.shape) < deg.damage, 255 - band, band)
    if module_px is None:  # the symbol fills 35-55 % of the frame height
        module_px = float(rng.uniform(0.35, 0.55)) * h / n
    side = n * module_px
    card_margin = 0.18 * side
    # Card (with the symbol) corners before placement, centred on the origin.
    half = side / 2
    corners = np.array([[-half, -half], [half, -half], [half, half], [-half, half]], np.float32)
    jitter = rng.uniform(-deg.tilt, deg.tilt, size=(4, 2)).astype(np.float32) * side
    theta = math.radians(deg.angle_deg)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]], np.float32)
    placed = (corners + jitter) @ rot.T
    reach = float(np.abs(placed).max()) + card_margin * 1.5
    cx = float(rng.uniform(min(reach, w / 2), max(w - reach, w / 2)))
    cy = float(rng.uniform(min(reach, h / 2), max(h - reach, h / 2)))
    placed += np.array([cx, cy], np.float32)
    # Card: the symbol image with a light margin, warped with the same homography.
    # Supersampled source (about 2 source pixels per frame pixel) so the
    # warp gives anti-aliased edges, like a lens, rather than bilinear mush.
    k = max(2, int(math.ceil(2 * module_px)))
    pad = max(1, int(round(card_margin / module_px)))
    card = np.kron(np.pad(symbol, pad, constant_values=255), np.ones((k, k), np.uint8))
    a, b = pad * k, (pad + n) * k
    src = np.array([[a, a], [b, a], [b, b], [a, b]], np.float32)
    hom = cv2.getPerspectiveTransform(src, placed)
    card_big = cv2.warpPerspective(card.astype(np.float32), hom, (w, h), flags=cv2.INTER_LINEAR,
                                   borderValue=-1)
    mask = (card_big >= 0)[..., None]
    tint = np.array([0.93, 0.96, 1.0], np.float32) * 0.82  # slightly warm white card
    frame = np.where(mask, card_big[..., None] * tint + 25, frame)
    if deg.blur_modules > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), deg.blur_modules * module_px)
    if deg.light_low < 1.0 or deg.glare > 0:
        frame = _uneven_light(frame, rng, deg)
    if deg.noise_sigma > 0:
        frame += rng.standard_normal(size=frame.shape, dtype=np.float32) * np.float32(deg.noise_sigma)
    return np.clip(frame, 0, 255).astype(np.uint8)


def _uneven_light(frame: np.ndarray, rng: np.random.Generator, deg: Degradation) -> np.ndarray:
    h, w = frame.shape[:2]
    yy, xx = np.ogrid[0:h, 0:w]
    yy, xx = yy.astype(np.float32), xx.astype(np.float32)
    phi = float(rng.uniform(0, 2 * math.pi))
    ramp = (xx * math.cos(phi) + yy * math.sin(phi))
    ramp = (ramp - ramp.min()) / max(1.0, float(ramp.max() - ramp.min()))
    gain = deg.light_low + (1.0 - deg.light_low) * ramp
    out = frame * gain[..., None]
    if deg.glare > 0:
        gx, gy = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        radius = float(rng.uniform(0.1, 0.25)) * max(w, h)
        spot = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * radius ** 2))
        out += (deg.glare * spot)[..., None]
    return out


def frame_set(payloads: list[str], size: tuple[int, int], conditions=CONDITIONS, per_condition: int = 10,
              seed: int = 2021):
    """Yield ``(condition, payload, frame)`` reproducibly for a benchmark or test."""
    rng = np.random.default_rng(seed)
    for condition in conditions:
        for i in range(per_condition):
            payload = payloads[i % len(payloads)]
            yield condition, payload, render_frame(payload, size, rng, degradation_for(condition, rng))


def barcode_image(text: str, module_px: int = 3) -> np.ndarray:
    """Grey uint8 image of a Code 128 barcode (with quiet zones), as printed on
    an old hospital slip; drawn by zxing-cpp's writer."""
    import zxingcpp

    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    return np.array(zxingcpp.write_barcode_to_image(symbol, scale=module_px, add_quiet_zones=True), dtype=np.uint8)


def render_slip_frame(text: str, size: tuple[int, int], rng: np.random.Generator, angle_deg: float = 2.0,
                      noise_sigma: float = 3.0) -> np.ndarray:
    """A BGR camera frame of an old paper slip held up to the camera, showing a
    Code 128 barcode of ``text``: slightly turned, lit unevenly, a little noisy."""
    import cv2

    w, h = size
    bars = barcode_image(text, module_px=max(2, w // 320))
    bars = np.vstack([bars] * max(1, (h // 5) // bars.shape[0]))  # bars about a fifth of the frame tall
    slip_h, slip_w = int(bars.shape[0] * 2.2), int(bars.shape[1] * 1.2)
    slip = np.full((slip_h, slip_w), 235, np.uint8)
    y0, x0 = (slip_h - bars.shape[0]) // 2, (slip_w - bars.shape[1]) // 2
    slip[y0:y0 + bars.shape[0], x0:x0 + bars.shape[1]] = np.where(bars < 128, 25, 235)
    frame = _background(rng, w, h).astype(np.float32)
    cx, cy = w / 2 + float(rng.uniform(-0.05, 0.05)) * w, h / 2 + float(rng.uniform(-0.05, 0.05)) * h
    turn = cv2.getRotationMatrix2D((slip_w / 2, slip_h / 2), angle_deg, 1.0)
    turn[:, 2] += (cx - slip_w / 2, cy - slip_h / 2)
    placed = cv2.warpAffine(slip.astype(np.float32), turn, (w, h), flags=cv2.INTER_LINEAR, borderValue=-1)
    mask = (placed >= 0)[..., None]
    frame = np.where(mask, placed[..., None] * np.array([0.95, 0.97, 1.0], np.float32), frame)
    frame += rng.standard_normal(size=frame.shape, dtype=np.float32) * np.float32(noise_sigma)
    return np.clip(frame, 0, 255).astype(np.uint8)
