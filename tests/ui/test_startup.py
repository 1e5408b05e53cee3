"""`kiosk run`'s start-up: the window first, the services built on a worker."""
from __future__ import annotations

import pytest

from kiosk.errors import ConfigError
from kiosk.journey.machine import Step

pytestmark = pytest.mark.integration


def test_window_is_up_before_the_services_and_devices_join_when_built(qtbot, kiosk_config):
    from app.compose import build_kiosk
    from ui.app import open_kiosk

    controller, window = open_kiosk(kiosk_config, build_kiosk)
    qtbot.addWidget(window)
    window.resize(1080, 1920)
    window.show()
    try:
        assert controller.journey.step is Step.WELCOME
        qtbot.waitUntil(lambda: controller.services is not None and bool(controller.journey.departments),
                        timeout=30000)
        qtbot.waitUntil(lambda: controller.printer_status == "ok" and controller.reader_state == "ready")
        assert "Máy in sẵn sàng" in window.status["printer"].text()
    finally:
        controller.stop()
        if controller.services is not None:
            controller.services.close()


def test_services_that_cannot_be_built_put_the_kiosk_out_of_service(qtbot, kiosk_config):
    from ui.app import open_kiosk

    def broken(config):
        raise ConfigError("printer.connection: expected usb:VID:PID")

    controller, window = open_kiosk(kiosk_config, broken)
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: controller.journey.step is Step.ERROR)
        error = window.screens["error"]
        assert window.current_screen() is error and "tạm ngừng phục vụ" in error.message.text()
        assert not any(b.isVisible() for b in error.actions.values())
    finally:
        controller.stop()
