"""Image files: a pixel limit checked from the header before decoding, and a
truncated or corrupt file reported as such — `kiosk scan-image` as a real
process (its peak memory measured) and the camera's capture thread."""
from __future__ import annotations

import json
import subprocess
import sys

import cv2
import pytest
from PIL import Image

from devices.camera.capture import CaptureThread
from devices.camera.errors import CameraUnavailable
from devices.camera.synthetic import qr_image
from kiosk.ports import DEVICE_MISSING
from tests.robustness.cli import ROOT, assert_no_traceback, kiosk

pytestmark = pytest.mark.integration

PAYLOAD = "001093012345||NGUYỄN VĂN AN|05011993|Nam|Hà Nội|10042021"

# Runs `kiosk` in this process and prints its peak memory (VmHWM, KiB) last on stderr.
# (VmHWM belongs to the process image: unlike ru_maxrss it does not carry the
# high-water mark of the big test process it was forked from.)
PEAK_RSS = ("import sys\n"
            "from app.cli import main\n"
            "try:\n    code = main(sys.argv[1:])\n"
            "finally:\n"
            "    hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
            "    print('PEAK_KIB', hwm, file=sys.stderr)\n"
            "sys.exit(code)\n")


def scan_with_peak(*args) -> tuple[subprocess.CompletedProcess, int]:
    r = subprocess.run([sys.executable, "-c", PEAK_RSS, "scan-image", *args], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    peak = int(r.stderr.rsplit("PEAK_KIB", 1)[1].split()[0])
    return r, peak


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("images")
    good = d / "card.jpg"
    cv2.imwrite(str(good), qr_image(PAYLOAD, 8))
    data = good.read_bytes()
    (d / "truncated.jpg").write_bytes(data[:len(data) // 2])
    png = d / "card.png"
    cv2.imwrite(str(png), qr_image(PAYLOAD, 8))
    raw = png.read_bytes()
    (d / "truncated.png").write_bytes(raw[:len(raw) * 2 // 3])
    (d / "corrupt.png").write_bytes(raw[:60] + bytes(range(256)) * 4 + raw[60 + 1024:])
    Image.new("1", (10000, 10000), 1).save(d / "huge.png")  # 100 MP, a few KB on disk
    return d


def test_scan_image_reads_a_good_file(files):
    r = kiosk("scan-image", "--json", str(files / "card.jpg"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["codes"][0]["kind"] == "cccd"


def test_a_huge_image_is_refused_from_its_header_without_decoding(files):
    r, peak_kib = scan_with_peak(str(files / "huge.png"))
    assert_no_traceback(r)
    assert r.returncode == 1
    assert "image file is too large" in r.stdout and "10000×10000" in r.stdout and "camera.max_image_pixels" in r.stdout
    # a small image takes ~120 MB (Python, OpenCV, the decoders); decoding 10000×10000 would add
    # ~300 MB for the BGR frame alone (~800 MB seen with the decoders' copies)
    _, small_kib = scan_with_peak(str(files / "card.jpg"))
    assert peak_kib < small_kib + 100_000, (peak_kib, small_kib)


def test_a_lower_configured_limit_is_used(files, tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[camera]\nmax_image_pixels = 10000\n', encoding="utf-8")
    r = kiosk("scan-image", "--config", str(cfg), str(files / "card.jpg"))
    assert r.returncode == 1 and "image file is too large" in r.stdout and "10,000" in r.stdout


def test_an_image_file_larger_than_max_image_bytes_is_refused_before_decoding(files, tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[camera]\nmax_image_bytes = 1024\n', encoding="utf-8")
    r = kiosk("scan-image", "--json", "--config", str(cfg), str(files / "card.jpg"))
    assert_no_traceback(r)
    assert r.returncode == 1
    result = json.loads(r.stdout)[0]
    assert "frame" not in result and "camera.max_image_bytes = 1,024" in result["error"], result


@pytest.mark.parametrize("name, what", [("truncated.jpg", "truncated"), ("truncated.png", "truncated"),
                                        ("corrupt.png", "")])
def test_truncated_or_corrupt_files_are_reported_never_half_decoded(files, name, what):
    r = kiosk("scan-image", "--json", str(files / name))
    assert_no_traceback(r)
    assert r.returncode == 1
    result = json.loads(r.stdout)[0]
    assert result["codes"] == [] and "frame" not in result  # nothing was decoded
    assert result["error"].startswith(f"image file is {what}"), result["error"]
    assert str(files / name) in result["error"]


def test_the_capture_thread_refuses_a_truncated_file_source(files):
    states = []
    capture = CaptureThread(str(files / "truncated.jpg"), lockstep=True, loop_files=False, reconnect_s=5.0,
                            on_state=states.append, max_image_pixels=40_000_000).start()
    try:
        with pytest.raises(CameraUnavailable, match="image file is truncated"):
            capture.latest(0, timeout=10)
    finally:
        capture.stop()
    assert capture.frames_read == 0 and states == [DEVICE_MISSING]
