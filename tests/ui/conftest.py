"""Kiosk UI tests: offscreen Qt, the real sandbox HIS and printer simulator,
and small in-test card reader / camera doubles driven like the hardware would
(events from their own thread, reads that can be interrupted)."""
from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from kiosk.demo_data import demo_person, person_identity  # noqa: E402
from kiosk.domain import Assurance, IdentitySource  # noqa: E402
from kiosk.errors import KioskError  # noqa: E402
from kiosk.ports import CARD_INSERTED, CARD_REMOVED, DEVICE_READY  # noqa: E402
from tests.helpers import make_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DOCS_SCREENS = ROOT / "docs" / "images" / "screens"


class CardRemovedError(KioskError):
    patient_message_key = "ui.error.card_removed"


class WrongKeyError(KioskError):
    patient_message_key = "error.generic"


class TestReader:
    """A CardReader double: events come from a thread like a PC/SC monitor's;
    ``hold()`` makes the next read wait until the card is removed or released."""

    def __init__(self):
        self.on_event = None
        self.person: str | None = None
        self._gate = threading.Event()
        self._gate.set()
        self.reads = 0

    def start(self, on_event):
        self.on_event = on_event
        on_event(DEVICE_READY)

    def stop(self):
        self._gate.set()

    def _emit(self, event):
        threading.Thread(target=self.on_event, args=(event,)).start()

    def insert(self, key: str):
        self.person = key
        self._emit(CARD_INSERTED)

    def remove(self):
        self.person = None
        self._emit(CARD_REMOVED)
        self._gate.set()

    def hold(self):
        self._gate.clear()

    def read_identity(self, key, *, with_photo=False, timeout=15.0):
        self.reads += 1
        self._gate.wait(timeout)
        if self.person is None:
            raise CardRemovedError("card reader: card removed during read")
        person = demo_person(self.person)
        if key.can != person["citizen_id"][-6:]:
            raise WrongKeyError("card reader: PACE with the CAN failed")
        return person_identity(person, IdentitySource.CHIP, Assurance.CHIP_VERIFIED)


class TestCamera:
    """A QrScanner double: codes arrive from another thread."""

    def __init__(self):
        self.on_code = None

    def start(self, on_code, on_event):
        self.on_code = on_code
        on_event(DEVICE_READY)

    def stop(self):
        pass

    def show(self, text: str):
        threading.Thread(target=self.on_code, args=(text,)).start()


def cccd_qr(key: str) -> str:
    p = demo_person(key)
    dob = "".join(reversed(p["birth_date"].split("-")))
    issued = "".join(reversed(p["issue_date"].split("-")))
    return "|".join([p["citizen_id"], p["old_id"], p["full_name"], dob, p["sex"], p["address"], issued])


@pytest.fixture
def kiosk_config(his_sandbox, tmp_path):
    return make_config(his_sandbox.base_url, kiosk={"data_dir": str(tmp_path / "data"), "idle_timeout_s": 30.0},
                       card_reader={"driver": "simulator"}, camera={"driver": "simulator"},
                       printer={"driver": "simulator"})


@pytest.fixture
def kiosk(qtbot, kiosk_config):
    """A running kiosk window on the sandbox HIS with test reader/camera and the printer simulator."""
    from devices.printer import build_printer
    from kiosk.bootstrap import build_services
    from ui.app import make_kiosk

    services = build_services(kiosk_config, with_devices=False)
    services.printer = build_printer(kiosk_config)
    services.card_reader = TestReader()
    services.scanner = TestCamera()
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
        from kiosk.journey import Step
        step = Step(step)
        self.qtbot.waitUntil(lambda: self.journey.step is step and self.controller.runner.busy() == 0
                             or self.journey.step is step and step.value in ("reading", "checking_in"),
                             timeout=timeout)
        self.qtbot.wait(10)
        assert self.window.current_screen() is self.window.screen_for(step)

    def tap(self, widget):
        from PySide6.QtCore import Qt
        assert widget.isVisible() and widget.isEnabled(), widget.text()
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)

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
