"""The kiosk window: header (hospital, language), the current step's screen,
and a status bar (connection, printer, reader, camera).

A hidden gesture — five taps in the top-left corner within 3 s — emits
``admin_requested`` for the IT staff's admin screen (``ui/admin``).
"""
from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QSizePolicy, QStackedWidget, QVBoxLayout,
                               QWidget)

from kiosk import journey as j
from kiosk.ports import (DEVICE_READY, MODE_ONLINE, PRINTER_OK, PRINTER_PAPER_LOW)

from . import style
from .catalogue import tr
from .controller import Controller
from .device_signals import NONE, STARTING
from .screens.base import button
from .screens import (AppointmentScreen, BusyScreen, ConfirmScreen, DepartmentScreen, DoneScreen, ErrorScreen,
                      KeypadScreen, NeedKeyScreen, PriorityScreen, WelcomeScreen)

ADMIN_TAPS, ADMIN_WINDOW_S, ADMIN_CORNER_MM = 5, 3.0, 15.0


class KioskWindow(QWidget):
    admin_requested = Signal()

    def __init__(self, controller: Controller, parent=None):
        super().__init__(parent)
        self.setObjectName("kiosk")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.controller = controller
        self.setWindowTitle("Kiosk")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self._header())
        self.stack = QStackedWidget()
        lay.addWidget(self.stack, 1)
        lay.addWidget(self._status_bar())
        send = controller.send
        self.screens = {
            "welcome": WelcomeScreen(send), "need_key": NeedKeyScreen(send), "keypad": KeypadScreen(send),
            "busy": BusyScreen(send), "confirm": ConfirmScreen(send), "appointment": AppointmentScreen(send),
            "department": DepartmentScreen(send), "priority": PriorityScreen(send), "done": DoneScreen(send),
            "error": ErrorScreen(send),
        }
        for screen in self.screens.values():
            # An explicit minimum keeps long texts from widening the window
            # beyond the screen: the screen's size decides, texts wrap.
            screen.setMinimumSize(1, 1)
            self.stack.addWidget(screen)
        self.setMinimumSize(320, 480)
        self._u = 0.0
        self._taps: list[float] = []
        self._last_press = -1
        controller.changed.connect(self.refresh)
        controller.status_changed.connect(self.refresh_status)
        controller.personal_data_cleared.connect(self.clear_personal_data)
        QApplication.instance().installEventFilter(self)
        self._apply_style()

    def _header(self) -> QWidget:
        header = QWidget()
        header.setMinimumWidth(1)
        header.setObjectName("header")
        header.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = QHBoxLayout(header)
        row.setContentsMargins(24, 10, 24, 10)
        self.hospital = QLabel(self.controller.config.kiosk.hospital_name)
        self.hospital.setObjectName("hospital")
        self.language = self._lang_button()
        row.addWidget(self.hospital, 1)
        row.addWidget(self.language)
        return header

    def _lang_button(self):
        btn = button("language", self._toggle_language)
        btn.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        return btn

    def _status_bar(self) -> QWidget:
        bar = QWidget()
        bar.setMinimumWidth(1)
        bar.setObjectName("statusbar")
        bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = QHBoxLayout(bar)
        row.setContentsMargins(16, 4, 16, 4)
        self.status = {}
        for name in ("connection", "printer", "reader", "camera"):
            lab = QLabel()
            lab.setProperty("role", "status")
            self.status[name] = lab
            row.addWidget(lab)
        row.addStretch(1)
        return bar

    # --- drawing ---------------------------------------------------------------------------
    def screen_for(self, step: j.Step):
        names = {j.Step.WELCOME: "welcome", j.Step.NEED_KEY: "need_key", j.Step.KEYPAD: "keypad",
                 j.Step.CONFIRM_IDENTITY: "confirm", j.Step.APPOINTMENT: "appointment",
                 j.Step.DEPARTMENT: "department", j.Step.PRIORITY: "priority", j.Step.DONE: "done",
                 j.Step.ERROR: "error"}
        return self.screens[names.get(step, "busy")]

    def current_screen(self):
        return self.stack.currentWidget()

    def refresh(self) -> None:
        journey = self.controller.journey
        screen = self.screen_for(journey.step)
        screen.show_journey(journey, self.controller)
        self.stack.setCurrentWidget(screen)
        self.language.setText(tr("ui.language.other", journey.language))
        self.refresh_status()

    def refresh_status(self) -> None:
        c, lang = self.controller, self.controller.journey.language
        online = c.connectivity == MODE_ONLINE
        self._set_status("connection", tr("ui.status.online" if online else "ui.status.offline", lang),
                         "ok" if online else "bad")
        printer = c.printer_status if c.services is not None else STARTING
        self._set_status("printer", tr(f"ui.status.printer.{printer}", lang),
                         "ok" if printer == PRINTER_OK else "warn" if printer in (PRINTER_PAPER_LOW, NONE, STARTING)
                         else "bad")
        for name, state in (("reader", c.reader_state), ("camera", c.camera_state)):
            shown = state if state in (DEVICE_READY, "missing", "error", NONE, STARTING) else "error"
            self._set_status(name, tr(f"ui.status.{name}.{shown}", lang),
                             "ok" if state == DEVICE_READY else "warn" if state in (NONE, STARTING) else "bad")

    def _set_status(self, name: str, text: str, state: str) -> None:
        lab = self.status[name]
        lab.setText(("● " if state == "ok" else "▲ ") + text)
        if lab.property("state") != state:
            lab.setProperty("state", state)
            lab.style().unpolish(lab)
            lab.style().polish(lab)

    def clear_personal_data(self) -> None:
        for screen in self.screens.values():
            screen.clear()

    def _toggle_language(self) -> None:
        self.controller.send(j.SetLanguage("en" if self.controller.journey.language == "vi" else "vi"))

    def _apply_style(self) -> None:
        u = style.unit_for(max(1, self.width()), max(1, self.height()))
        if abs(u - self._u) < 0.01:
            return
        self._u = u
        self.setStyleSheet(style.stylesheet(u))
        for screen in self.screens.values():
            screen.set_margins(u)
        photo = self.screens["confirm"].photo
        photo.setFixedSize(round(300 * u), round(400 * u))

    def resizeEvent(self, event):  # noqa: N802
        self._apply_style()
        super().resizeEvent(event)

    # --- touches -----------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin) and self.isVisible():
            if event.timestamp() == self._last_press:
                return False  # the same press, propagating to a parent widget
            self._last_press = event.timestamp()
            self.controller.user_activity()
            pos = getattr(event, "globalPosition", None)
            if pos is not None and obj is not None and isinstance(obj, QWidget) and obj.window() is self:
                self._corner_tap(self.mapFromGlobal(pos().toPoint()))
        return False

    def _corner_tap(self, point) -> None:
        corner = max(60, style.min_target_px(self._u or 1.0))
        if point.x() > corner or point.y() > corner:
            return
        now = time.monotonic()
        self._taps = [t for t in self._taps if now - t <= ADMIN_WINDOW_S] + [now]
        if len(self._taps) >= ADMIN_TAPS:
            self._taps.clear()
            self.admin_requested.emit()
