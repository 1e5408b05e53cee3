"""The admin screen: PIN pad first, then status, devices, outbox and settings.

Opened from the kiosk's hidden gesture (the main window's ``admin_requested``
signal, see ``install_admin``). Settings are validated and written back to the
TOML config by ``kiosk.config.writer``; a refused value is shown in red and
the file is left as it was. ``config_changed`` carries the new ``Config`` so
the kiosk can apply what it can at once (language) and the rest at restart.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from kiosk.config.loader import Config
from kiosk.errors import KioskError
from kiosk.operations.admin_pin import PinGate
from ui.admin.actions import AdminActions, AdminTools
from ui.admin.pin_page import PinPage
from ui.admin.style import STYLESHEET
from ui.admin.tabs import DevicesTab, OutboxTab, SettingsTab, StatusTab, _button, show_message
from ui.admin.texts import tr
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)

# Exit status of the kiosk app when staff leave kiosk mode: the systemd units
# do not restart on it (RestartPreventExitStatus=3).
EXIT_KIOSK_MODE = 3


class AdminScreen(QWidget):
    closed = Signal()
    exit_kiosk_requested = Signal()
    config_changed = Signal(object)  # Config

    def __init__(self, config: Config, config_path: str | Path | None = None, services=None,
                 runner: TaskRunner | None = None, gate: PinGate | None = None, parent=None, *,
                 tools: AdminTools):
        super().__init__(parent)
        self.setObjectName("admin")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(STYLESHEET)
        self.lang = config.kiosk.language
        self.actions = AdminActions(config_path, config, services, tools)
        self.runner = runner or TaskRunner(workers=2, parent=self)
        state = config.data_dir() / "admin-pin-state.json"
        self.gate = gate or PinGate(config.admin, state_file=state)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        header = QWidget()
        header.setObjectName("adminHeader")
        header.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        hl = QHBoxLayout(header)
        hl.setContentsMargins(8, 4, 8, 4)
        title = QLabel(f"{tr('admin.title', self.lang)} — {config.kiosk.id}")
        title.setObjectName("adminTitle")
        hl.addWidget(title, 1)
        self.close_button = _button(tr("admin.close", self.lang), "secondary", self.close_admin)
        hl.addWidget(self.close_button)
        outer.addWidget(header)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack, 1)
        self.pin_page = PinPage(self.gate, self.lang)
        self.pin_page.unlocked.connect(self._unlocked)
        self.pin_page.cancelled.connect(self.close_admin)
        self.tabs = QTabWidget()
        self.status_tab = StatusTab(self)
        self.devices_tab = DevicesTab(self)
        self.outbox_tab = OutboxTab(self)
        self.settings_tab = SettingsTab(self)
        self.settings_tab.exit_requested.connect(self._exit_kiosk)
        for tab, key in ((self.status_tab, "admin.tab.status"), (self.devices_tab, "admin.tab.devices"),
                         (self.outbox_tab, "admin.tab.outbox"), (self.settings_tab, "admin.tab.settings")):
            self.tabs.addTab(tab, tr(key, self.lang))
        self.tabs.currentChanged.connect(self._tab_changed)
        self.stack.addWidget(self.pin_page)
        self.stack.addWidget(self.tabs)
        self.open()

    # -- flow -------------------------------------------------------------------
    def open(self) -> None:
        """Back to the PIN pad (each opening asks for the PIN again)."""
        self.pin_page.reset()
        self.stack.setCurrentWidget(self.pin_page)

    def is_unlocked(self) -> bool:
        return self.stack.currentWidget() is self.tabs

    def _unlocked(self) -> None:
        log.info("admin screen opened", extra={"event": "admin.unlocked"})
        self.stack.setCurrentWidget(self.tabs)
        self.tabs.setCurrentWidget(self.status_tab)
        self.status_tab.run()

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.outbox_tab:
            self.outbox_tab.refresh()

    def close_admin(self) -> None:
        self.open()
        self.closed.emit()

    def _exit_kiosk(self) -> None:
        log.warning("kiosk mode left from the admin screen", extra={"event": "admin.exit_kiosk"})
        self.exit_kiosk_requested.emit()

    # -- settings ---------------------------------------------------------------
    def save(self, changes: dict, message: QLabel, on_saved=None) -> None:
        """Validate and write on a worker; show the outcome in ``message``."""
        def work():
            try:
                return True, self.actions.save(changes)
            except KioskError as exc:
                return False, str(exc)
            except OSError as exc:
                return False, f"cannot write the config ({exc.strerror})"

        def done(result):
            ok, value = result
            if ok:
                show_message(message, tr("admin.saved", self.lang), True)
                self.config_changed.emit(value)
                if on_saved:
                    on_saved()
            else:
                show_message(message, tr("admin.refused", self.lang, e=value), False)

        self.runner.run(work, done)


def install_admin(window, config: Config, config_path: str | Path | None = None, services=None,
                  runner: TaskRunner | None = None, *, tools: AdminTools) -> AdminScreen:
    """Connect the main window's hidden gesture (``admin_requested``) to the
    admin screen, shown full screen above the kiosk. Leaving kiosk mode quits
    the app with ``EXIT_KIOSK_MODE``."""
    from PySide6.QtWidgets import QApplication

    screen = AdminScreen(config, config_path, services, runner, tools=tools)
    screen.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)

    def show():
        screen.open()
        screen.setGeometry(window.geometry())
        screen.show()
        screen.raise_()
        screen.activateWindow()

    window.admin_requested.connect(show)
    screen.closed.connect(screen.hide)
    screen.exit_kiosk_requested.connect(lambda: QApplication.exit(EXIT_KIOSK_MODE))
    return screen
