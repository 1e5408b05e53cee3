"""Capture thread: files as cameras, latest-frame-wins, typed errors, reconnect."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from devices.camera.capture import CaptureThread, FrameSlot, parse_source
from devices.camera.errors import CameraLost, CameraUnavailable, EndOfStream, safe_source
from kiosk.ports import DEVICE_MISSING, DEVICE_READY
from tests.camera.conftest import write_video


def _numbered_frames(n, size=(160, 120)):
    """Frames whose top-left pixel carries their number, to check ordering."""
    frames = []
    for i in range(n):
        f = np.full((size[1], size[0], 3), 200, np.uint8)
        f[:8, :8] = i
        frames.append(f)
    return frames


def _wait_until(predicate, timeout=60.0):  # a bound on waiting on a busy machine, not a speed target
    done = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        done.wait(0.02)
    return predicate()


class Events(list):
    def __init__(self):
        super().__init__()
        self.changed = threading.Condition()

    def __call__(self, state):
        with self.changed:
            self.append(state)
            self.changed.notify_all()

    def wait_for(self, states, timeout=10.0):
        with self.changed:
            return self.changed.wait_for(lambda: list(self[:len(states)]) == list(states), timeout)


def test_parse_and_mask_sources():
    assert parse_source("0") == 0 and parse_source(2) == 2
    assert parse_source("/dev/video2") == "/dev/video2"
    assert safe_source("rtsp://admin:secret@10.0.0.5/stream") == "rtsp://***@10.0.0.5/stream"
    assert safe_source("/dev/video0") == "/dev/video0"


def test_lockstep_delivers_every_frame_in_order(tmp_path):
    video = write_video(tmp_path / "n.mkv", _numbered_frames(12))
    cap = CaptureThread(str(video), lockstep=True, loop_files=False).start()
    seen, seq = [], 0
    try:
        with pytest.raises(EndOfStream):
            while True:
                frame = cap.latest(seq, timeout=10)
                seq = frame.seq
                seen.append(int(frame.image[2, 2, 0]))
    finally:
        cap.stop()
    assert seen == list(range(12))
    assert cap.slot.dropped == 0


def test_latest_frame_wins_without_backlog(tmp_path):
    video = write_video(tmp_path / "n.mkv", _numbered_frames(40))
    cap = CaptureThread(str(video), loop_files=False, pace_files=False).start()
    try:
        first = cap.latest(0, timeout=10)
        assert _wait_until(lambda: cap.state == "ended")  # the thread read the whole file meanwhile
        last = cap.latest(first.seq, timeout=10)
        assert int(last.image[2, 2, 0]) == 39 and last.seq == 40  # newest, not the next in line
        assert cap.slot.dropped >= 30
        with pytest.raises(EndOfStream):
            cap.latest(last.seq, timeout=1)
    finally:
        cap.stop()


def test_single_image_file_is_looped_like_a_camera(tmp_path):
    import cv2

    png = tmp_path / "still.png"
    cv2.imwrite(str(png), _numbered_frames(1)[0])
    cap = CaptureThread(str(png)).start()
    try:
        a = cap.latest(0, timeout=10)
        b = cap.latest(a.seq, timeout=10)
        assert b.seq > a.seq and b.image.shape == (120, 160, 3)
    finally:
        cap.stop()


def test_missing_source_is_a_typed_error_then_reconnects_when_it_appears(tmp_path):
    video = tmp_path / "later.mkv"
    events = Events()
    cap = CaptureThread(str(video), reconnect_s=0.05, on_state=events).start()
    try:
        assert events.wait_for([DEVICE_MISSING])
        with pytest.raises(CameraUnavailable) as info:
            cap.latest(0, timeout=5)
        assert "later.mkv" in str(info.value) and info.value.patient_message_key == "error.camera_unavailable"
        write_video(tmp_path / "tmp.mkv", _numbered_frames(3)).rename(video)  # camera plugged in
        assert events.wait_for([DEVICE_MISSING, DEVICE_READY])
        assert cap.latest(0, timeout=10).image.shape == (120, 160, 3)
    finally:
        cap.stop()


class FakeCamera:
    """Stands in for a physical USB camera (none exists here): delivers
    ``frames`` frames, then reads fail as when the cable is pulled."""

    def __init__(self, frames, gone: threading.Event):
        self.frames, self.gone, self.released = frames, gone, False

    def isOpened(self):
        return True

    def set(self, *_):
        return True

    def get(self, *_):
        return 0

    def read(self):
        if self.frames <= 0 or self.gone.is_set():
            self.gone.wait(0.01)
            return False, None
        self.frames -= 1
        self.gone.wait(0.005)
        return True, np.zeros((48, 64, 3), np.uint8)

    def release(self):
        self.released = True


def test_camera_lost_then_reconnected():
    unplugged = threading.Event()
    opened = []

    def open_capture(source):
        assert source == 0
        cam = FakeCamera(10 if not opened else 10_000, unplugged if not opened else threading.Event())
        opened.append(cam)
        return cam

    events = Events()
    cap = CaptureThread("0", frame_timeout_s=0.2, reconnect_s=0.05, on_state=events,
                        open_capture=open_capture).start()
    try:
        assert events.wait_for([DEVICE_READY, DEVICE_MISSING, DEVICE_READY])
        assert opened[0].released and len(opened) >= 2
        assert cap.latest(0, timeout=5).image.shape == (48, 64, 3)
    finally:
        cap.stop()


def test_no_frames_within_the_timeout_is_camera_lost():
    cap = CaptureThread("0", frame_timeout_s=0.1, reconnect_s=0.05,
                        open_capture=lambda _s: FakeCamera(0, threading.Event())).start()
    try:
        with pytest.raises((CameraLost, CameraUnavailable)) as info:
            cap.latest(0)
        assert "camera 0" in str(info.value)
    finally:
        cap.stop()


def test_stop_wakes_a_waiting_reader():
    cap = CaptureThread("0", open_capture=lambda _s: FakeCamera(0, threading.Event()),
                        frame_timeout_s=30).start()
    outcome = []

    def reader():
        try:
            cap.latest(0, timeout=30)
        except Exception as exc:
            outcome.append(type(exc).__name__)

    t = threading.Thread(target=reader)
    t.start()
    cap.stop()
    t.join(10)
    assert not t.is_alive() and outcome == ["EndOfStream"]


def test_frame_slot_keeps_one_frame():
    from devices.camera.capture import Frame

    slot, stop = FrameSlot(), threading.Event()
    for i in range(1, 6):
        slot.put(Frame(i, np.zeros((1, 1), np.uint8), 0.0), stop)
    assert slot.take(0, 1).seq == 5 and slot.dropped == 4
    assert slot.take(5, 0.01) is None


def test_a_frame_larger_than_max_image_pixels_never_reaches_the_decoders():
    """A source that ignores the size asked for (a network camera sending 8K)
    is refused frame by frame before any decoder sees it."""
    cam = FakeCamera(1000, threading.Event())
    cam.read = lambda: (True, np.zeros((480, 640, 3), np.uint8))
    cap = CaptureThread("0", frame_timeout_s=0.5, reconnect_s=0.05, max_image_pixels=640 * 479,
                        open_capture=lambda _s: cam).start()
    try:
        with pytest.raises(CameraUnavailable, match="camera.max_image_pixels"):
            cap.latest(0, timeout=2)
        assert cap.frames_read == 0
    finally:
        cap.stop()
