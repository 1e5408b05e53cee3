"""Start the kiosk window: ``run_kiosk`` for a real kiosk (full screen),
``make_kiosk`` for the demo, tests and benchmarks."""
from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ui import catalogue  # noqa: F401 - registers the ui.* messages
from ui.controller import Controller
from ui.qtcheck import check_qt_binding
from ui.window import KioskWindow

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


def open_kiosk(config, build_services) -> tuple[Controller, KioskWindow]:
    """The window first, the services (HIS client, devices, offline cache) built
    on a worker meanwhile: the welcome screen is up in well under a second and
    the devices join when ready. A build that fails shows "out of service"."""
    application()
    controller = Controller(None, config)
    window = KioskWindow(controller)
    controller.start()

    def build():
        try:
            return build_services(config)
        except Exception as exc:  # noqa: BLE001 - shown on screen and logged, never a silent hang
            log.error("services could not be built", extra={"event": "ui.build_failed", "error": str(exc)})
            return exc

    def built(result) -> None:
        if isinstance(result, BaseException):
            controller.out_of_service(result)
        else:
            controller.attach(result)

    controller.runner.run(build, built)
    return controller, window


def quit_on_signals(app: QApplication) -> QTimer:
    """SIGTERM (systemd stopping the unit) and SIGINT end the event loop cleanly,
    so devices and the offline cache are closed. Qt's loop does not run Python
    code by itself: a light timer lets the handlers run."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: app.quit())
    return python_wakeup_timer()


def quit_soon(app: QApplication) -> None:
    """End the event loop now, or as soon as it starts (``quit()`` before
    ``exec()`` would be forgotten): safe to call from a signal handler."""
    app.quit()
    QTimer.singleShot(0, app.quit)


def python_wakeup_timer() -> QTimer:
    """A light timer so that Python signal handlers run while Qt's loop waits
    (keep the returned object alive; ``stop()`` it when done)."""
    timer = QTimer()
    timer.start(250)
    timer.timeout.connect(lambda: None)
    return timer


def install_admin_screen(window, controller: Controller, config, make_tools) -> None:
    """The IT staff's admin screen behind the window's hidden gesture (ui/admin).
    ``make_tools(services)`` gives its ``AdminTools``; they are made again with
    the running kiosk's services once those are built."""
    from ui.admin import install_admin

    source = Path(config.source) if config.source else None
    admin = install_admin(window, config, source if source and source.is_file() else None,
                          controller.services, controller.runner, tools=make_tools(controller.services))
    controller.services_ready.connect(lambda services: admin.actions.attach(services, make_tools(services)))


def run_kiosk(config, build_services, make_admin_tools, *, fullscreen: bool = True) -> int:
    app = application()
    wake = quit_on_signals(app)  # noqa: F841 - kept alive for the loop's lifetime
    controller, window = open_kiosk(config, build_services)
    if fullscreen:
        window.showFullScreen()
    else:
        window.resize(*LANDSCAPE)
        window.show()
    install_admin_screen(window, controller, config, make_admin_tools)
    try:
        code = app.exec()  # EXIT_KIOSK_MODE (3) when IT staff leave kiosk mode from the admin screen
        log.info("kiosk stopped", extra={"event": "ui.stopped", "exit_code": code})
        return code
    finally:
        controller.stop()
        if controller.services is not None:
            controller.services.close()
