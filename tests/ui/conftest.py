"""Kiosk UI tests: offscreen Qt, the real sandbox HIS, and the device
simulators (card reader with signed sample cards, camera rendering and
decoding QR frames, printer rendering the ticket raster)."""
from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from kiosk.demo_data import cccd_qr_payload, demo_person  # noqa: E402
from tests.helpers import docs_images, make_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DOCS_SCREENS = docs_images() / "screens"  # docs/images/screens with `make screenshots`


def cccd_qr(key: str) -> str:
    return cccd_qr_payload(demo_person(key))


@pytest.fixture
def sandbox(his_sandbox):
    """The HIS the kiosk talks to; a test module may override it (e.g. with fresh_sandbox)."""
    return his_sandbox


@pytest.fixture
def kiosk_config(sandbox, tmp_path):
    # The tours check the same demo people in again and again: each is a visit of its own here
    # (one number per visit, kiosk.repeat_visits = "refuse", is tested in test_journey_repeat.py).
    return make_config(sandbox.base_url, kiosk={"data_dir": str(tmp_path / "data"), "idle_timeout_s": 30.0,
                                                "repeat_visits": "allow"},
                       card_reader={"driver": "simulator"}, camera={"driver": "simulator"},
                       printer={"driver": "simulator"})


@pytest.fixture
def kiosk(qtbot, kiosk_config):
    """A running kiosk window on the sandbox HIS with test reader/camera and the printer simulator."""
    from app.compose import build_kiosk, build_printer
    from devices.camera.simulator import SimulatedScanner
    from devices.card.simulator import SimulatedCardReader
    from devices.voice import SimulatedSpeaker
    from ui.app import make_kiosk

    services = build_kiosk(kiosk_config, with_devices=False)
    services.printer = build_printer(kiosk_config)
    services.card_reader = SimulatedCardReader(read_time_s=0.2)
    services.scanner = SimulatedScanner(repeat_after_s=1.0)
    services.speech = SimulatedSpeaker()
    services.on_close(services.speech.close)
    controller, window = make_kiosk(services, kiosk_config)
    window.resize(1080, 1920)
    window.show()
    qtbot.addWidget(window)
    k = KioskDriver(qtbot, controller, window, services)
    qtbot.waitUntil(lambda: bool(controller.printer_status == "ok" and controller.journey.departments), timeout=20000)
    yield k
    controller.stop()
    services.close()


class KioskDriver:
    """What a patient (and the test) can do with the kiosk."""

    def __init__(self, qtbot, controller, window, services):
        self.qtbot, self.controller, self.window, self.services = qtbot, controller, window, services
        self.reader, self.camera, self.printer = services.card_reader, services.scanner, services.printer

    @property
    def journey(self):
        return self.controller.journey

    def wait_step(self, step, timeout=20000):
        from kiosk.journey.machine import Step
        step = Step(step)
        self.qtbot.waitUntil(lambda: self.journey.step is step, timeout=timeout)
        self.qtbot.wait(20)
        assert self.window.current_screen() is self.window.screen_for(step)

    def tap(self, widget):
        from PySide6.QtCore import Qt
        assert widget.isVisible() and widget.isEnabled(), widget.text()
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)

    def show_qr(self, key: str):
        self.camera.show(cccd_qr(key), seconds=0.6)

    def insert(self, key: str):
        self.reader.insert_card(key)

    def remove(self):
        self.reader.remove_card()

    def screen(self, name):
        return self.window.screens[name]

    def type_digits(self, digits: str):
        keypad = self.screen("keypad")
        for d in digits:
            self.tap(keypad.keys[d])
        self.tap(keypad.ok)

    def texts(self) -> str:
        """Every text on every screen, visible or not (to check what is left in widgets)."""
        from PySide6.QtWidgets import QLabel, QPushButton
        parts = [w.text() for w in self.window.findChildren(QLabel)]
        parts += [w.text() for w in self.window.findChildren(QPushButton)]
        return "\n".join(parts)

    def shoot(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        assert self.window.grab().save(str(path))
