"""Start the kiosk window: ``run_kiosk`` for a real kiosk (full screen),
``make_kiosk`` for the demo, tests and benchmarks."""
from __future__ import annotations

import logging
import os
import sys

from PySide6.QtWidgets import QApplication

from . import catalogue  # noqa: F401 - registers the ui.* messages
from .controller import Controller
from .qtcheck import check_qt_binding
from .window import KioskWindow

log = logging.getLogger(__name__)

PORTRAIT, LANDSCAPE = (1080, 1920), (1920, 1080)


def has_display() -> bool:
    """Whether Qt can open a window here (a display server, or an explicit platform)."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def application(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    app = existing or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("kiosk")
    if existing is None:
        check_qt_binding()  # fail at start, not after hours in front of patients
    return app


def make_kiosk(services, config) -> tuple[Controller, KioskWindow]:
    """A started controller and its window (not shown yet)."""
    application()
    controller = Controller(services, config)
    window = KioskWindow(controller)
    controller.start()
    return controller, window


def run_kiosk(services, config, *, fullscreen: bool = True) -> int:
    app = application()
    controller, window = make_kiosk(services, config)
    if fullscreen:
        window.showFullScreen()
    else:
        window.resize(*LANDSCAPE)
        window.show()
    try:
        return app.exec()
    finally:
        controller.stop()
