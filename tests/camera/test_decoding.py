"""Decoding through the real capture path: exact Vietnamese text, degraded
frames at 640×480 and 1280×720, the `kiosk scan-image` command."""
from __future__ import annotations

import argparse
import json
from collections import Counter

import cv2
import numpy as np
import pytest

from devices.camera.capture import CaptureThread
from devices.camera.cascade import Cascade, sharpen, to_grey
from devices.camera.decoders import ZbarDecoder, ZxingDecoder, bytes_to_text
from devices.camera.synthetic import CONDITIONS, Degradation, render_frame

SHORT_VIETNAMESE = ["Quận Z", "Phường Y", "Văn"]


def _frames_from(source, **kw):
    """Every frame of a file, read by the capture thread in lockstep."""
    capture = CaptureThread(str(source), lockstep=True, loop_files=False, **kw).start()
    frames, seq = [], 0
    try:
        while True:
            try:
                frame = capture.latest(seq, timeout=10)
            except Exception as exc:  # EndOfStream ends the file
                assert type(exc).__name__ == "EndOfStream", exc
                break
            seq = frame.seq
            frames.append(frame.image)
    finally:
        capture.stop()
    return frames


@pytest.mark.parametrize("text", SHORT_VIETNAMESE)
def test_zbar_default_mode_garbles_short_vietnamese(text):
    """The trap this adapter works around: without raw-bytes mode zbar reads
    ECI-less UTF-8 as Shift-JIS."""
    from pyzbar import pyzbar

    grey = to_grey(render_frame(text, (640, 480), np.random.default_rng(1), Degradation(), module_px=6))
    decoded = pyzbar.decode(grey)
    assert decoded and decoded[0].data.decode("utf-8", "replace") != text


@pytest.mark.parametrize("text", SHORT_VIETNAMESE)
@pytest.mark.parametrize("steps", [("zbar:grey",), ("zxing:grey",), ("opencv:grey",), None])
def test_short_vietnamese_is_exact_through_the_capture_path(tmp_path, text, steps):
    png = tmp_path / "code.png"
    cv2.imwrite(str(png), render_frame(text, (640, 480), np.random.default_rng(3), Degradation(angle_deg=5),
                                       module_px=6))
    (image,) = _frames_from(png)
    cascade = Cascade(steps) if steps else Cascade()
    assert [d.text for d in cascade.decode(image)] == [text]
    assert cascade.decode(image)[0].raw == text.encode("utf-8")


def test_bytes_to_text():
    assert bytes_to_text("Văn".encode()) == "Văn"
    # Not UTF-8: never re-read as Latin-1 ("café" from one bad byte); U+FFFD, which parse_qr refuses.
    assert bytes_to_text(b"caf\xe9") == "caf\ufffd"
    assert "\ufffd" in bytes_to_text(b"\x81\xff")


def test_zbar_reads_grey_and_reports_nothing_on_an_empty_frame():
    zbar = ZbarDecoder()
    try:
        empty = to_grey(render_frame(None, (640, 480), np.random.default_rng(2)))
        assert zbar.decode(empty) == []
    finally:
        zbar.close()


@pytest.mark.parametrize("size", ["480p", "720p"])
def test_degraded_frame_set_through_the_capture_thread(frame_set, size):
    data = frame_set[size]
    frames = _frames_from(data["video"])
    assert len(frames) == len(data["items"])  # lockstep: nothing dropped
    cascade, zxing = Cascade(), ZxingDecoder()
    ok, zx_ok, per_condition = 0, 0, Counter()
    for (condition, payload, _png), image in zip(data["items"], frames):
        texts = [d.text for d in cascade.decode(image)]
        assert texts in ([], [payload]), f"{condition}: wrong text decoded"
        ok += bool(texts)
        per_condition[condition] += bool(texts)
        zx_ok += any(d.text == payload for d in zxing.decode(to_grey(image)))
    n = len(data["items"]) // len(CONDITIONS)
    for condition in ("clean", "rotation", "perspective", "noise", "light"):
        assert per_condition[condition] == n, condition
    assert per_condition["blur"] >= n // 2 and per_condition["combined"] >= n // 2
    assert ok >= zx_ok  # the cascade never does worse than its best decoder alone


def _run_cli(argv):
    from app.cli import scan

    parser = argparse.ArgumentParser(prog="kiosk")
    scan.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_scan_image_cli_reads_degraded_frames_with_exact_diacritics(frame_set, capsys):
    items = [it for it in frame_set["720p"]["items"] if it[0] in ("clean", "perspective", "light", "noise")]
    items += [it for it in frame_set["480p"]["items"] if it[0] in ("rotation", "noise")]
    assert _run_cli(["scan-image", "--json", *[str(p) for _c, _t, p in items]]) == 0
    results = json.loads(capsys.readouterr().out)
    for (_c, payload, png), result in zip(items, results):
        assert result["path"] == str(png)
        (code,) = result["codes"]
        assert code["text"] == payload
        assert code["kind"] in ("cccd", "appointment")
        if code["kind"] == "cccd":
            assert code["fields"]["full_name"] == payload.split("|")[2]
            assert code["fields"]["address"] == payload.split("|")[5]
            assert code["keys"]["can"] == payload[:12][-6:]


def test_scan_image_cli_reports_unknown_codes_and_empty_frames(tmp_path, capsys):
    from devices.camera.samples import render_qr_png

    url = render_qr_png("https://example.vn/thanh-toán", tmp_path / "url.png")
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), render_frame(None, (640, 480), np.random.default_rng(4)))
    missing = tmp_path / "missing.png"
    assert _run_cli(["scan-image", "--json", str(url), str(empty), str(missing)]) == 1
    r_url, r_empty, r_missing = json.loads(capsys.readouterr().out)
    assert r_url["codes"][0]["kind"] == "unknown" and r_url["codes"][0]["text"] == "https://example.vn/thanh-toán"
    assert r_url["codes"][0]["message_key"] == "error.qr_unsupported"
    assert r_empty["codes"] == [] and "error" not in r_empty
    assert "cannot be opened" in r_missing["error"]


def test_scan_image_through_the_kiosk_entry_point(tmp_path, capsys):
    from app.cli import main
    from devices.camera.samples import render_qr_png

    png = render_qr_png("001093012345|012345678|NGUYỄN VĂN AN|05011993|Nam|Phường Y, Quận Z|10042021",
                        tmp_path / "an.png", scale=4)
    assert main(["scan-image", str(png)]) == 0
    out = capsys.readouterr().out
    assert "cccd (zxing" in out and "NGUYỄN VĂN AN|05011993|Nam|Phường Y, Quận Z" in out


def test_sharpen_keeps_shape_and_type():
    grey = np.full((10, 12), 128, np.uint8)
    out = sharpen(grey)
    assert out.shape == grey.shape and out.dtype == np.uint8


def test_scan_live_prints_each_payload_once(tmp_path, capsys):
    from tests.camera.conftest import write_video

    texts = ["Quận Z", "LH2611252345"]
    rng = np.random.default_rng(8)
    frames = []
    for text in texts:
        frame = render_frame(text, (640, 480), rng, Degradation(angle_deg=4), module_px=6)
        frames += [frame] * 15
    video = write_video(tmp_path / "live.mkv", frames, fps=30)
    assert _run_cli(["scan", "--camera", str(video), "--json", "--seconds", "30"]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [(x["text"], x["kind"]) for x in lines] == [("Quận Z", "unknown"), ("LH2611252345", "appointment")]
    assert "camera: ready" in captured.err


def test_region_of_interest_limits_where_codes_are_read():
    from devices.camera.cascade import crop_roi

    frame = np.full((480, 640, 3), 180, np.uint8)
    code = render_frame("Văn", (200, 200), np.random.default_rng(5), Degradation(), module_px=5)
    frame[20:220, 420:620] = code  # top-right corner
    assert [d.text for d in Cascade().decode(frame)] == ["Văn"]
    assert [d.text for d in Cascade(roi=(0.5, 0.0, 1.0, 0.5)).decode(frame)] == ["Văn"]
    assert Cascade(roi=(0.0, 0.5, 0.5, 1.0)).decode(frame) == []
    assert crop_roi(frame, (0.25, 0.5, 0.75, 1.0)).shape == (240, 320, 3)
