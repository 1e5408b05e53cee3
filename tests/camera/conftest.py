"""Generated camera frames (fixed seed) written to a temporary folder, so the
tests read them through the real capture path, as a camera would deliver them."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from devices.camera.samples import demo_payloads
from devices.camera.synthetic import CONDITIONS, SIZES, degradation_for, render_frame

PER_CONDITION = 6
SEED = 2021


def payloads() -> list[str]:
    return list(demo_payloads().values())


def write_video(path: Path, frames: list[np.ndarray], fps: float = 30.0) -> Path:
    """Lossless FFV1 video (so the frames the decoder sees are the ones rendered)."""
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), fps, (w, h))
    assert writer.isOpened(), "OpenCV cannot write FFV1 video here"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="session")
def frame_set(tmp_path_factory):
    """{size name: {"dir": folder of PNGs, "video": FFV1 file, "items": [(condition, payload, png)]}}"""
    import cv2

    root = tmp_path_factory.mktemp("qr-frames")
    out = {}
    texts = payloads()
    for name, size in SIZES.items():
        rng = np.random.default_rng(SEED)
        folder = root / name
        folder.mkdir()
        items, frames = [], []
        for condition in CONDITIONS:
            for i in range(PER_CONDITION):
                payload = texts[(i + CONDITIONS.index(condition)) % len(texts)]
                frame = render_frame(payload, size, rng, degradation_for(condition, rng))
                png = folder / f"{condition}_{i}.png"
                cv2.imwrite(str(png), frame, [cv2.IMWRITE_PNG_COMPRESSION, 1])
                items.append((condition, payload, png))
                frames.append(frame)
        (folder / "truth.json").write_text(json.dumps([[c, p, str(f)] for c, p, f in items], ensure_ascii=False),
                                           encoding="utf-8")
        out[name] = {"dir": folder, "items": items, "video": write_video(root / f"{name}.mkv", frames)}
    return out
