"""The admin screen's tools: the doctor with the running kiosk's live devices,
a printer or card reader of its own when the kiosk has none, and device
detection. Built here (not in ``ui/``) because they need the other layers."""
from __future__ import annotations

import devices.detect
from app.compose import KioskServices, build_card_reader, build_printer
from app.doctor import run_doctor
from kiosk.config import Config
from ui.admin.actions import AdminTools


def admin_tools(config: Config, services: KioskServices | None) -> AdminTools:
    """What the admin screen needs besides the running kiosk's services."""
    return AdminTools(
        doctor=lambda config_path, timeout_s: run_doctor(config_path, timeout_s=timeout_s, services=services)[0],
        open_printer=lambda cfg: build_printer(cfg, keep_tickets=False),
        open_card_reader=build_card_reader,
        detect=devices.detect.attached_devices,
    )
