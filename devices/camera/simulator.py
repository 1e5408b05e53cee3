"""Simulated camera for the demo and UI tests.

Why frames and not just strings: the simulator renders each scripted payload
into a camera frame (synthetic.py) and feeds it to the real decode loop and
cascade, so a demo or UI test exercises the same decoding, UTF-8 handling
and repeat filtering as a real camera. Unreadable frames (a heavily blurred
code) decode to nothing, exactly like a shaky hand.

Script steps (also callable live, e.g. from the demo operator panel):
- ``show(payload, seconds)``: hold a code in front of the camera;
- ``show_slip(code, seconds)``: an old paper slip with a Code 128 barcode;
- ``show_unreadable(seconds)``: a smudged code the camera sees but cannot read;
- ``unplug(seconds)``: the camera delivers no frames (DEVICE_MISSING), then
  comes back (DEVICE_READY).
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from devices.camera.capture import Frame, FrameSlot
from devices.camera.cascade import Cascade
from devices.camera.errors import CameraLost, EndOfStream
from devices.camera.scanner import QrScanLoop
from devices.camera.synthetic import Degradation, render_frame, render_slip_frame
from kiosk.operations.diagnostics import WARN, Check
from kiosk.ports import DEVICE_READY, DeviceEventCallback

UNREADABLE = "\x00unreadable"  # marker payloads, never decoded text
NOTHING = "\x00nothing"
UNPLUGGED = "\x00unplugged"
SLIP = "\x00slip:"  # + the barcode's text


@dataclass(frozen=True)
class Step:
    payload: str  # text to show, or UNREADABLE / NOTHING / UNPLUGGED
    seconds: float = 1.0


class ScriptedSource:
    """A frame source that plays script steps at ``fps`` frames a second; when
    the script is exhausted it shows an empty view (or ends, ``end=True``)."""

    def __init__(self, steps: Sequence[Step] = (), *, fps: float = 10.0, size=(640, 480),
                 seed: int = 7, end: bool = False, frame_timeout_s: float = 1.0,
                 on_state: DeviceEventCallback | None = None) -> None:
        self._steps: queue.Queue[Step] = queue.Queue()
        for step in steps:
            self._steps.put(step)
        self.fps, self.size, self.end = fps, size, end
        self.frame_timeout_s = frame_timeout_s
        self.slot = FrameSlot()
        self._rng = np.random.default_rng(seed)
        self._cache: dict[str, np.ndarray] = {}
        self._on_state = on_state if on_state is not None else (lambda _s: None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._life = threading.Lock()  # start and stop may come from different threads
        self._seq = 0
        self.unplugged = False

    def add(self, step: Step) -> None:
        self._steps.put(step)

    def start(self) -> "ScriptedSource":
        with self._life:
            self._stop = threading.Event()  # restartable: the scanner may be stopped and started again
            self.slot = FrameSlot()
            self._thread = threading.Thread(target=self._run, name="camera-simulator", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 3.0) -> None:
        with self._life:  # never half-way through start(): a thread that exists has started
            self._stop.set()
            self.slot.close(EndOfStream("simulated camera: stopped"))
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def latest(self, after_seq: int = 0, timeout: float | None = None) -> Frame:
        wait = self.frame_timeout_s if timeout is None else timeout
        frame = self.slot.take(after_seq, wait)
        if frame is None:
            raise CameraLost(f"simulated camera: no frame within {wait:.1f} s")
        return frame

    def _frame_for(self, payload: str) -> np.ndarray:
        if payload not in self._cache:
            if payload == NOTHING:
                image = render_frame(None, self.size, self._rng)
            elif payload.startswith(SLIP):
                image = render_slip_frame(payload[len(SLIP):], self.size, self._rng)
            elif payload == UNREADABLE:
                image = render_frame("UNREADABLE-SAMPLE-0000", self.size, self._rng,  # seen, never read
                                     Degradation(angle_deg=3, tilt=0.02, blur_modules=0.2, noise_sigma=6, damage=0.5))
            else:
                image = render_frame(payload, self.size, self._rng, Degradation(angle_deg=3, tilt=0.02))
            self._cache[payload] = image
        return self._cache[payload]

    def _run(self) -> None:
        interval = 1.0 / self.fps
        self._on_state(DEVICE_READY)
        while not self._stop.is_set():
            try:
                step = self._steps.get_nowait()
            except queue.Empty:
                if self.end:
                    self.slot.close(EndOfStream("simulated camera: script finished"))
                    return
                step = Step(NOTHING, interval)
            if step.payload == UNPLUGGED:
                self.unplugged = True
                self._stop.wait(step.seconds)  # no frames: the decode loop reports DEVICE_MISSING
                self.unplugged = False
                continue
            image = self._frame_for(step.payload)
            until = time.monotonic() + step.seconds
            while not self._stop.is_set() and time.monotonic() < until:
                self._seq += 1
                self.slot.put(Frame(self._seq, image, time.monotonic()), self._stop)
                self._stop.wait(interval)


class SimulatedScanner(QrScanLoop):
    """``kiosk.ports.QrScanner`` backed by a ScriptedSource. ``show*`` and
    ``unplug`` may be called from any thread while it runs."""

    def __init__(self, steps: Sequence[Step] = (), *, fps: float = 10.0, repeat_after_s: float = 3.0,
                 end: bool = False, frame_timeout_s: float = 1.0, unreadable_after_s: float = 2.0) -> None:
        self._scripted = ScriptedSource(steps, fps=fps, end=end, frame_timeout_s=frame_timeout_s)

        def make_source(on_state):
            self._scripted._on_state = on_state
            return self._scripted

        super().__init__(make_source, lambda: Cascade(), repeat_after_s=repeat_after_s,
                         poll_timeout_s=frame_timeout_s, unreadable_after_s=unreadable_after_s)

    def diagnose(self) -> list[Check]:
        return [Check("camera", WARN, "simulated camera (camera.driver = \"simulator\")",
                      "set camera.driver = \"opencv\" and camera.source for a real camera")]

    def show(self, payload: str, seconds: float = 1.5) -> None:
        self._scripted.add(Step(payload, seconds))

    def show_slip(self, code: str, seconds: float = 1.5) -> None:
        """Hold an old slip whose Code 128 barcode reads ``code``."""
        self._scripted.add(Step(SLIP + code, seconds))

    def show_unreadable(self, seconds: float = 1.0) -> None:
        self._scripted.add(Step(UNREADABLE, seconds))

    def unplug(self, seconds: float = 2.0) -> None:
        self._scripted.add(Step(UNPLUGGED, seconds))
