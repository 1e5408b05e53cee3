"""Scanner adapter, simulator, build_scanner/diagnose, demo samples."""
from __future__ import annotations

import socket
import threading

import cv2
import numpy as np
import pytest

from app.compose import build_scanner
from devices.camera import make_capture
from devices.camera.capture import CaptureThread
from devices.camera.cascade import Cascade, RepeatFilter
from devices.camera.samples import (
    appointment_qr_payload,
    cccd_qr_payload,
    demo_appointment_code,
    demo_payloads,
    qr_png_bytes,
    render_qr_png,
)
from devices.camera.scanner import QrScanLoop, UnreadableHint
from devices.camera.simulator import SimulatedScanner, Step
from devices.camera.synthetic import Degradation, render_frame
from kiosk.config.loader import Config
from kiosk.demo_data import demo_person
from kiosk.identity.qr_payload import AppointmentQr, CccdQr, parse_qr
from kiosk.operations.diagnostics import FAIL, OK, WARN
from kiosk.ports import DEVICE_MISSING, DEVICE_READY, QR_READABLE, QR_UNREADABLE
from tests.camera.conftest import write_video


class Collector:
    """Thread-safe record of callbacks, with waits that time out."""

    def __init__(self):
        self.items, self.cond = [], threading.Condition()

    def __call__(self, item):
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def wait_len(self, n, timeout=15.0):
        with self.cond:
            return self.cond.wait_for(lambda: len(self.items) >= n, timeout)

    def wait_for(self, predicate, timeout=15.0):
        with self.cond:
            return self.cond.wait_for(lambda: predicate(self.items), timeout)


def _video(tmp_path, sequence, size=(640, 480)):
    rng = np.random.default_rng(9)
    cache, frames = {}, []
    for payload, count in sequence:
        if payload not in cache:
            cache[payload] = render_frame(payload, size, rng, Degradation(angle_deg=2))
        frames += [cache[payload]] * count
    return write_video(tmp_path / "seq.mkv", frames)


def test_repeat_filter_reports_once_while_in_view():
    now = [0.0]
    f = RepeatFilter(hold_s=2.0, clock=lambda: now[0])
    assert f.new_codes(["A"]) == ["A"]
    for t in (0.5, 1.0, 2.5, 4.0):  # still held up, decoded now and then
        now[0] = t
        assert f.new_codes(["A"]) == []
    now[0] = 5.0
    assert f.new_codes(["B", "B"]) == ["B"]
    now[0] = 6.5  # A out of view for 2.5 s: new again
    assert f.new_codes(["A", "B"]) == ["A"]


def test_scan_loop_reports_each_payload_once_in_order(tmp_path):
    an, appt = cccd_qr_payload(demo_person("an")), appointment_qr_payload("LH2611250345")
    video = _video(tmp_path, [(an, 6), (None, 3), (appt, 5), (an, 4)])
    codes, events = Collector(), Collector()
    loop = QrScanLoop(lambda on_state: CaptureThread(str(video), lockstep=True, loop_files=False,
                                                      on_state=on_state), repeat_after_s=60)
    loop.start(codes, events)
    try:
        assert loop.join(30)
    finally:
        loop.stop()
    assert codes.items == [an, appt]  # exact text, repeats suppressed
    assert loop.frames_decoded == 18
    assert events.items == [DEVICE_READY]


def test_scan_loop_reports_camera_lost_and_recovers(tmp_path):
    from tests.camera.test_capture import FakeCamera

    text = "Phường Y"
    frame = render_frame(text, (320, 240), np.random.default_rng(1), Degradation(), module_px=5)
    unplugged, opened = threading.Event(), []

    class CodeCamera(FakeCamera):
        def read(self):
            ok, _ = super().read()
            return ok, (frame if ok else None)

    def open_capture(_source):
        opened.append(1)
        return CodeCamera(5 if len(opened) == 1 else 10_000, unplugged if len(opened) == 1 else threading.Event())

    codes, events = Collector(), Collector()
    loop = QrScanLoop(lambda on_state: CaptureThread("0", frame_timeout_s=0.2, reconnect_s=0.05,
                                                      on_state=on_state, open_capture=open_capture),
                      repeat_after_s=60, poll_timeout_s=0.2)
    loop.start(codes, events)
    try:
        assert events.wait_for(lambda e: e[:3] == [DEVICE_READY, DEVICE_MISSING, DEVICE_READY])
        assert codes.wait_len(1)
    finally:
        loop.stop()
    assert codes.items == [text]


def test_simulator_plays_codes_unreadable_frames_and_unplugging():
    an = cccd_qr_payload(demo_person("an"))
    ngoc = cccd_qr_payload(demo_person("ngoc"))
    sim = SimulatedScanner([Step(an, 0.6)], fps=20, repeat_after_s=60, frame_timeout_s=0.3)
    codes, events = Collector(), Collector()
    sim.start(codes, events)
    try:
        assert codes.wait_len(1)
        sim.show_unreadable(0.4)
        sim.unplug(0.8)
        sim.show(ngoc, 0.6)
        assert codes.wait_len(2)
        assert events.wait_for(lambda e: e[:3] == [DEVICE_READY, DEVICE_MISSING, DEVICE_READY])
    finally:
        sim.stop()
    assert codes.items == [an, ngoc]
    assert isinstance(parse_qr(codes.items[0]), CccdQr)


def test_simulator_reports_a_code_again_after_it_left_the_view():
    code = appointment_qr_payload("LH2611250345")
    sim = SimulatedScanner([Step(code, 0.3), Step("\x00nothing", 1.0), Step(code, 0.3)], fps=20,
                           repeat_after_s=0.2, end=True)
    codes = Collector()
    sim.start(codes, lambda _e: None)
    try:
        assert sim.join(20)
    finally:
        sim.stop()
    assert codes.items == [code, code]


def test_simulator_can_restart():
    sim = SimulatedScanner(fps=20, repeat_after_s=60)
    for payload in ("Văn", "Quận Z"):
        codes = Collector()
        sim.start(codes, lambda _e: None)
        sim.show(payload, 0.5)
        try:
            assert codes.wait_len(1)
        finally:
            sim.stop()
        assert codes.items == [payload]


def test_build_scanner_from_config(tmp_path):
    cfg = Config()
    assert isinstance(build_scanner(cfg), SimulatedScanner)  # default driver: simulator
    video = _video(tmp_path, [(cccd_qr_payload(demo_person("linh")), 3)])
    cfg.camera.driver, cfg.camera.source = "opencv", str(video)
    scanner = build_scanner(cfg)
    codes, events = Collector(), Collector()
    scanner.start(codes, events)
    try:
        assert codes.wait_len(1)
        assert events.wait_len(1)
    finally:
        scanner.stop()
    assert codes.items == [cccd_qr_payload(demo_person("linh"))]  # looped file, reported once
    assert events.items[0] == DEVICE_READY


def test_diagnose_reports_fps_from_a_file_source(tmp_path):
    cfg = Config()
    assert build_scanner(cfg).diagnose()[0].status == WARN  # simulator
    cfg.camera.driver = "opencv"
    cfg.camera.source = str(_video(tmp_path, [("Văn", 4)], size=(1280, 720)))
    decoders, frames = build_scanner(cfg).diagnose()
    assert decoders.status == OK
    assert frames.status == OK and "frames/s at 1280×720" in frames.detail


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("source", ["/dev/video63", "http://kiosk:secret@127.0.0.1:{port}/cam.mjpg"])
def test_diagnose_fails_with_a_fix_when_the_camera_is_missing(source):
    cfg = Config()
    cfg.camera.driver, cfg.camera.source = "opencv", source.format(port=_closed_port())
    cfg.camera.frame_timeout_s = 1.0
    frames = build_scanner(cfg).diagnose()[-1]
    assert frames.status == FAIL and "camera.source" in frames.fix
    assert "secret" not in frames.detail


def test_make_capture_uses_the_camera_section():
    cfg = Config()
    cfg.camera.source, cfg.camera.width, cfg.camera.height = "/dev/video9", 640, 480
    cap = make_capture(cfg)
    assert (cap.source, cap.width, cap.height, cap.is_file) == ("/dev/video9", 640, 480, False)


def test_demo_samples_render_and_scan_back(tmp_path):
    payloads = demo_payloads()
    assert sum(k.startswith("cccd:") for k in payloads) == 7
    assert sum(k.startswith("appointment:") for k in payloads) == 3
    for key, payload in payloads.items():
        parsed = parse_qr(payload)
        assert isinstance(parsed, AppointmentQr if key.startswith("appointment:") else CccdQr)
    an = payloads["cccd:an"]
    png = render_qr_png(an, tmp_path / "qr" / "an.png", scale=6)
    image = cv2.imread(str(png))
    assert image is not None and image.shape[0] == image.shape[1]
    from devices.camera.cascade import Cascade

    assert [d.text for d in Cascade(("zbar:grey",)).decode(image)] == [an]
    assert qr_png_bytes(an).startswith(b"\x89PNG")


def test_demo_appointment_code_matches_the_sandbox_booking_code():
    from datetime import date

    assert demo_appointment_code(demo_person("an"), date(2026, 11, 25)) == "LH2611252345"
    assert demo_appointment_code(demo_person("ngoc")) is None
    six = cccd_qr_payload(demo_person("ngoc"), layout="cccd_6")
    assert parse_qr(six).layout == "cccd_6"


def test_a_code_seen_but_not_read_for_a_while_is_reported_then_cleared():
    """The welcome screen can say "hold it still and closer": the scan loop reports a code
    the cascade sees but cannot read for ``after_s`` (a glimpse does not count, nor does one
    frame without it), and reports when that is over (read, or out of view for a second)."""
    events = []
    hint = UnreadableHint(2.0, events.append)
    t = 100.0
    for _ in range(5):  # a glimpse of 0.5 s, then nothing for 1.5 s
        hint.frame(False, True, t)
        t += 0.1
    for _ in range(15):
        hint.frame(False, False, t)
        t += 0.1
    assert events == []
    for i in range(25):  # 2.5 s seen and not read, one frame in five without it
        hint.frame(False, i % 5 != 4, t)
        t += 0.1
    assert events == [QR_UNREADABLE]
    hint.frame(True, False, t)  # read at last
    assert events == [QR_UNREADABLE, QR_READABLE]
    for i in range(25):
        hint.frame(False, True, t + i * 0.1)
    for i in range(12):  # out of view: cleared after a second
        hint.frame(False, False, t + 3 + i * 0.1)
    assert events == [QR_UNREADABLE, QR_READABLE, QR_UNREADABLE, QR_READABLE]


def test_the_cascade_tells_a_frame_without_any_code_from_one_it_could_not_read():
    cascade = Cascade()
    try:
        cascade.decode(render_frame(None, (640, 480), np.random.default_rng(1)))
        assert cascade.saw_unreadable is False
        assert cascade.decode(render_frame("HELLO-123", (640, 480), np.random.default_rng(1)))
        assert cascade.saw_unreadable is False
    finally:
        cascade.close()


def test_the_simulated_smudged_code_is_seen_not_read_and_reported_after_a_while():
    an = cccd_qr_payload(demo_person("an"))
    sim = SimulatedScanner(fps=20, repeat_after_s=60, frame_timeout_s=0.3, unreadable_after_s=0.5)
    codes, events = Collector(), Collector()
    sim.start(codes, events)
    try:
        sim.show_unreadable(1.5)
        sim.show(an, 0.6)
        assert codes.wait_len(1)
        assert events.wait_for(lambda e: QR_READABLE in e)
    finally:
        sim.stop()
    assert [e for e in events.items if e in (QR_UNREADABLE, QR_READABLE)] == [QR_UNREADABLE, QR_READABLE]
    assert codes.items == [an]
