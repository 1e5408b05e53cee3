"""Renders the admin screen offscreen into admin-*.png (docs/images/ for the
README with `make screenshots`) from a realistic state: simulated devices, the sandbox HIS for the
status, and an outbox holding offline check-ins that could not be delivered."""
from __future__ import annotations

from pathlib import Path

import pytest
from helpers import docs_images, free_port, make_config, request_for
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from app.admin_tools import admin_tools
from fhir_his.his import FhirHis
from kiosk.config.loader import load_config
from kiosk.config.writer import update_config
from kiosk.demo_data import demo_person, person_identity
from kiosk.operations.admin_pin import hash_pin
from ui.admin import AdminScreen

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
IMAGES = docs_images()


def save(widget, name: str) -> Path:
    path = IMAGES / name
    path.parent.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(path))
    image = QImage(str(path))
    assert image.width() == 1280 and image.height() == 800
    # not a blank picture: many distinct colours over the picture
    assert len({image.pixel(x, y) for x in range(0, 1280, 7) for y in range(0, 800, 7)}) > 8
    return path


def test_render_admin_screens(qtbot, his_sandbox, tmp_path):
    from app.compose import build_kiosk

    departments = FhirHis(make_config(his_sandbox.base_url)).list_departments()
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text((ROOT / "assets" / "kiosk.sample.toml").read_text(encoding="utf-8"), encoding="utf-8")
    update_config(config_file, {
        "kiosk.id": "KIOSK-03", "kiosk.data_dir": str(tmp_path / "data"), "admin.pin_hash": hash_pin("730518"),
        # the HIS answers the status check; the kiosk's own services below talk to a stopped one
        "his.base_url": his_sandbox.base_url, "card_reader.driver": "simulator", "camera.driver": "simulator",
        "printer.driver": "simulator", "offline.go_offline_after_s": 1.0})
    config = load_config(config_file)
    down = make_config(f"http://127.0.0.1:{free_port()}/fhir/R4", kiosk={"id": "KIOSK-03",
                       "data_dir": str(tmp_path / "data")}, offline={"go_offline_after_s": 1.0})
    services = build_kiosk(down, with_devices=False)
    try:
        parts = services.outbox
        parts.reference.store(departments)
        for key, dept in (("hung", "TIM"), ("nhung", "SAN"), ("ngoc", "NOI")):
            services.checkin.check_in(request_for(person_identity(demo_person(key)), dept))
        parts.sender.deliver_due(ignore_backoff=True)
        screen = AdminScreen(config, config_file, services, tools=admin_tools(config, services))
        screen.resize(1280, 800)
        screen.show()
        qtbot.addWidget(screen)
        for digit in "730":
            screen.pin_page.press(digit)
        save(screen, "admin-pin.png")
        for digit in "518":
            screen.pin_page.press(digit)
        screen.pin_page.press("ok")
        qtbot.waitUntil(lambda: bool(screen.status_tab.checks) and screen.runner.busy() == 0, timeout=30000)
        save(screen, "admin-status.png")
        screen.tabs.setCurrentWidget(screen.devices_tab)
        qtbot.mouseClick(screen.devices_tab.print_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "ms" in screen.devices_tab.message.text(), timeout=30000)
        save(screen, "admin-devices.png")
        screen.tabs.setCurrentWidget(screen.outbox_tab)
        qtbot.waitUntil(lambda: screen.outbox_tab.rows.count() == 3, timeout=30000)
        assert "3" in screen.outbox_tab.summary.text()
        rows = [screen.outbox_tab.rows.item(i).text() for i in range(3)]
        assert any("last error: HisUnavailable" in r for r in rows)
        save(screen, "admin-outbox.png")
        qtbot.mouseClick(screen.outbox_tab.retry_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "queued to be sent now" in screen.outbox_tab.message.text(), timeout=30000)
        assert screen.outbox_tab.message.text().startswith("3 entries")
        screen.runner.shutdown()
    finally:
        services.close()
