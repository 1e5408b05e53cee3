"""Admin screen for IT staff: PIN, doctor results, device choice and tests,
outbox, default language, leaving kiosk mode. See ``screen.AdminScreen``."""
from ui.admin.screen import EXIT_KIOSK_MODE, AdminScreen, install_admin

__all__ = ["AdminScreen", "install_admin", "EXIT_KIOSK_MODE"]
