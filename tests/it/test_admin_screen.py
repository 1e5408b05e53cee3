"""Admin screen (pytest-qt, offscreen): PIN lockout, device change written back
to the TOML file, invalid value refused, language, test print, leaving kiosk
mode, and opening it with the kiosk window's hidden gesture."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from app.admin_tools import admin_tools
from kiosk.config.loader import load_config
from kiosk.config.writer import update_config
from kiosk.operations.admin_pin import PinGate, hash_pin
from kiosk.operations.diagnostics import FAIL
from ui.admin import AdminScreen, install_admin
from ui.admin.pin_page import duration_text
from ui.admin.texts import tr

ROOT = Path(__file__).resolve().parents[2]
PIN = "730518"


class FakeClock:
    def __init__(self):
        self.t = 1_000_000.0

    def __call__(self):
        return self.t


@pytest.fixture
def config_file(tmp_path):
    """The commented sample config with this test's folders, PIN and simulators."""
    path = tmp_path / "kiosk.toml"
    path.write_text((ROOT / "assets" / "kiosk.sample.toml").read_text(encoding="utf-8"), encoding="utf-8")
    update_config(path, {"kiosk.data_dir": str(tmp_path / "data"), "admin.pin_hash": hash_pin(PIN),
                         "admin.max_attempts": 3, "admin.lockout_s": 60.0, "card_reader.driver": "simulator",
                         "camera.driver": "simulator", "printer.driver": "simulator",
                         "his.base_url": "http://127.0.0.1:9/fhir/R4", "his.connect_timeout_s": 1.0})
    return path


@pytest.fixture
def admin(qtbot, config_file):
    clock = FakeClock()
    config = load_config(config_file)
    gate = PinGate(config.admin, state_file=config.data_dir() / "pin.json", clock=clock)
    screen = AdminScreen(config, config_file, gate=gate, tools=admin_tools(config, None))
    screen.resize(1280, 800)
    screen.show()
    qtbot.addWidget(screen)
    screen.clock = clock
    yield screen
    screen.runner.shutdown()


def enter_pin(qtbot, screen, pin: str) -> None:
    for digit in pin:
        qtbot.mouseClick(screen.pin_page.keys[digit], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(screen.pin_page.keys["ok"], Qt.MouseButton.LeftButton)


def unlock(qtbot, screen) -> None:
    enter_pin(qtbot, screen, PIN)
    assert screen.is_unlocked()
    qtbot.waitUntil(lambda: bool(screen.status_tab.checks), timeout=30000)


def wait_idle(qtbot, screen) -> None:
    qtbot.waitUntil(lambda: screen.runner.busy() == 0, timeout=30000)


def test_wrong_pins_lock_the_screen_even_for_the_right_pin(qtbot, admin):
    enter_pin(qtbot, admin, "1111")
    assert not admin.is_unlocked() and "2" in admin.pin_page.message.text()
    enter_pin(qtbot, admin, "2222")
    enter_pin(qtbot, admin, "3333")
    assert admin.pin_page.is_locked() and not admin.pin_page.keys["1"].isEnabled()
    assert "60" in admin.pin_page.message.text()
    admin.pin_page.pin = PIN  # even typed in somehow, the right PIN is refused while locked
    admin.pin_page.press("ok")
    assert not admin.is_unlocked()
    admin.clock.t += 61
    admin.pin_page.reset()
    assert admin.pin_page.keys["1"].isEnabled()
    unlock(qtbot, admin)


def test_the_pad_shows_how_long_the_lockout_lasts_and_that_it_grows(qtbot, admin):
    enter_pin(qtbot, admin, "111111")
    assert admin.pin_page.message.text() == tr("admin.pin.wrong_then_locked", admin.lang, n=2,
                                               length=duration_text(60, admin.lang))
    for _ in range(2):
        enter_pin(qtbot, admin, "111111")
    assert admin.pin_page.message.text() == tr("admin.pin.locked_for", admin.lang, length=duration_text(60, admin.lang),
                                               left=duration_text(60, admin.lang))
    admin.clock.t += 61
    admin.pin_page.reset()
    for _ in range(3):  # a second round without the right PIN: three times longer
        enter_pin(qtbot, admin, "222222")
    assert admin.pin_page.is_locked()
    admin.clock.t += 30
    admin.pin_page.reset()
    assert admin.pin_page.message.text() == tr("admin.pin.locked_for", admin.lang, length=duration_text(180, admin.lang),
                                               left=duration_text(150, admin.lang))
    assert duration_text(180, "en") == "3 min" and duration_text(150, "en") == "3 min"
    assert duration_text(45, "en") == "45 s" and duration_text(8100, "en") == "2 h 15 min"


def test_status_tab_shows_the_doctor_results(qtbot, admin):
    unlock(qtbot, admin)
    names = [admin.status_tab.table.item(r, 1).text() for r in range(admin.status_tab.table.rowCount())]
    assert "config" in names and "his.reachable" in names and "printer.status" in names
    his = next(c for c in admin.status_tab.checks if c.name == "his.reachable")
    assert his.status == FAIL
    fails = sum(c.status == FAIL for c in admin.status_tab.checks)
    assert f"{fails} lỗi" in admin.status_tab.summary.text()


def test_device_change_is_written_back_keeping_comments(qtbot, admin, config_file):
    unlock(qtbot, admin)
    admin.tabs.setCurrentWidget(admin.devices_tab)
    tab = admin.devices_tab
    tab.camera.setCurrentIndex(tab.camera.findText("Không dùng"))
    tab.printer.setEditText("network:127.0.0.1:9100")
    with qtbot.waitSignal(admin.config_changed, timeout=30000) as changed:
        qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    assert changed.args[0].printer.connection == "network:127.0.0.1:9100"
    text = config_file.read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    assert raw["printer"]["driver"] == "escpos" and raw["printer"]["connection"] == "network:127.0.0.1:9100"
    assert raw["camera"]["driver"] == "none"
    assert "# usb:VID:PID (see `lsusb`)" in text  # the sample's comments survive
    assert tab.message.property("ok") == "true"


def test_invalid_value_is_refused_and_the_file_is_unchanged(qtbot, admin, config_file):
    unlock(qtbot, admin)
    before = config_file.read_bytes()
    tab = admin.devices_tab
    tab.printer.setEditText("lp0")
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, admin)
    assert tab.message.property("ok") == "false"
    assert "printer.connection" in tab.message.text()
    assert config_file.read_bytes() == before


def test_default_language_and_leaving_kiosk_mode(qtbot, admin, config_file):
    unlock(qtbot, admin)
    tab = admin.settings_tab
    tab.language.setCurrentIndex(tab.language.findData("en"))
    with qtbot.waitSignal(admin.config_changed, timeout=30000):
        qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    assert load_config(config_file).kiosk.language == "en"
    with qtbot.waitSignal(admin.exit_kiosk_requested, timeout=5000):
        qtbot.mouseClick(tab.exit_button, Qt.MouseButton.LeftButton)


def test_test_print_on_the_printer_simulator(qtbot, admin):
    unlock(qtbot, admin)
    tab = admin.devices_tab
    qtbot.mouseClick(tab.print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.print_button.isEnabled() and "ms" in tab.message.text(), timeout=30000)
    assert tab.message.property("ok") == "true" and "status: ok" in tab.message.text()


def test_closing_asks_for_the_pin_again(qtbot, admin):
    unlock(qtbot, admin)
    with qtbot.waitSignal(admin.closed, timeout=5000):
        qtbot.mouseClick(admin.close_button, Qt.MouseButton.LeftButton)
    assert not admin.is_unlocked()


def test_hidden_gesture_on_the_kiosk_window_opens_the_admin_screen(qtbot, his_sandbox, config_file):
    from app.compose import build_kiosk
    from ui.app import make_kiosk

    update_config(config_file, {"his.base_url": his_sandbox.base_url})
    config = load_config(config_file)
    services = build_kiosk(config, with_devices=False)
    controller, window = make_kiosk(services, config)
    window.resize(1080, 1920)
    window.show()
    qtbot.addWidget(window)
    try:
        screen = install_admin(window, config, config_file, services, tools=admin_tools(config, services))
        qtbot.addWidget(screen)
        assert not screen.isVisible()
        for _ in range(5):
            qtbot.mouseClick(window.hospital, Qt.MouseButton.LeftButton, pos=QPoint(2, 2))
        qtbot.waitUntil(screen.isVisible, timeout=5000)
        assert not screen.is_unlocked()  # the PIN is asked first
        enter_pin(qtbot, screen, PIN)
        assert screen.is_unlocked()
        wait_idle(qtbot, screen)
        qtbot.mouseClick(screen.close_button, Qt.MouseButton.LeftButton)
        assert not screen.isVisible()
        screen.runner.shutdown()
    finally:
        controller.stop()
        services.close()
