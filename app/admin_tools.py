"""The admin screen's tools: the doctor with the running kiosk's live devices,
a printer or card reader of its own when the kiosk has none, and device
detection. Built here (not in ``ui/``) because they need the other layers."""
from __future__ import annotations

from kiosk.config.loader import Config
from kiosk.services import KioskServices
from ui.admin.actions import AdminTools

# The composition root, the doctor and device detection are imported when a tool is
# first used: the admin screen is installed at start-up, before the window shows.


def _doctor(services):
    def run(config_path, timeout_s):
        from app.doctor import run_doctor

        return run_doctor(config_path, timeout_s=timeout_s, services=services)[0]
    return run


def _open_printer(config: Config):
    from app.compose import build_printer

    return build_printer(config, keep_tickets=False)


def _open_card_reader(config: Config):
    from app.compose import build_card_reader

    return build_card_reader(config)


def _detect():
    import devices.detect

    return devices.detect.attached_devices()


def admin_tools(config: Config, services: KioskServices | None) -> AdminTools:
    """What the admin screen needs besides the running kiosk's services."""
    return AdminTools(doctor=_doctor(services), open_printer=_open_printer, open_card_reader=_open_card_reader,
                      detect=_detect)
