"""The kiosk window: header (hospital; read aloud, large text, language), the
speech bar while speech is on (repeat, stop, volume), the current step's
screen, and a status bar (connection, printer, reader, camera).

A hidden gesture — five taps in the top-left corner within 3 s — emits
``admin_requested`` for the IT staff's admin screen (``ui/admin``).
"""
from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QBoxLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.journey import machine as j
from kiosk.ports import DEVICE_READY, MODE_ONLINE, PRINTER_OK, PRINTER_PAPER_LOW
from ui import style
from ui.catalogue import tr
from ui.controller import Controller
from ui.device_signals import NONE, STARTING
from ui.screens import (
    AlreadyScreen,
    AppointmentScreen,
    BusyScreen,
    ConfirmScreen,
    ConsentScreen,
    DepartmentScreen,
    DoneScreen,
    ErrorScreen,
    InsuranceScreen,
    KeypadScreen,
    NeedKeyScreen,
    PriorityScreen,
    WelcomeScreen,
)
from ui.screens.base import button, wrapped_height
from ui.touch_to_hear import TouchToHear

ADMIN_TAPS, ADMIN_WINDOW_S, ADMIN_CORNER_MM = 5, 3.0, 15.0
SCREEN_NAMES = {j.Step.WELCOME: "welcome", j.Step.NEED_KEY: "need_key", j.Step.KEYPAD: "keypad",
                j.Step.CONFIRM_IDENTITY: "confirm", j.Step.APPOINTMENT: "appointment",
                j.Step.DEPARTMENT: "department", j.Step.PRIORITY: "priority", j.Step.DONE: "done",
                j.Step.ERROR: "error", j.Step.INSURANCE: "insurance", j.Step.CONSENT: "consent",
                j.Step.ALREADY: "already"}


def _fixed(btn):
    btn.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
    return btn


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
        lay.addWidget(self._speech_bar())
        self.stack = QStackedWidget()
        lay.addWidget(self.stack, 1)
        lay.addWidget(self._status_bar())
        send = controller.send
        self.screens = {
            "welcome": WelcomeScreen(send), "need_key": NeedKeyScreen(send), "keypad": KeypadScreen(send),
            "busy": BusyScreen(send), "confirm": ConfirmScreen(send), "appointment": AppointmentScreen(send),
            "department": DepartmentScreen(send), "priority": PriorityScreen(send), "done": DoneScreen(send),
            "error": ErrorScreen(send), "insurance": InsuranceScreen(send),
            "consent": ConsentScreen(send), "already": AlreadyScreen(send),
        }
        for screen in self.screens.values():
            # An explicit minimum keeps long texts from widening the window
            # beyond the screen: the screen's size decides, texts wrap.
            screen.setMinimumSize(1, 1)
            self.stack.addWidget(screen)
        self.setMinimumSize(320, 480)
        self._mode: tuple[float, bool, bool] = (0.0, False, False)  # (unit, large text, portrait)
        self._bar_rows: bool | None = None  # the speech bar in two rows
        self._taps: list[float] = []
        self._last_press = -1
        controller.digits_typed = self._digits_typed
        controller.changed.connect(self.refresh)
        controller.status_changed.connect(self.refresh_status)
        controller.personal_data_cleared.connect(self.clear_personal_data)
        QApplication.instance().installEventFilter(self)
        self.touch_to_hear = TouchToHear(self, lambda: controller.journey.speech, controller.say_control)
        QApplication.instance().installEventFilter(self.touch_to_hear)
        self._apply_style()

    def _header(self) -> QWidget:
        header = QWidget()
        header.setMinimumWidth(1)
        header.setObjectName("header")
        header.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.header_row = QBoxLayout(QBoxLayout.Direction.LeftToRight, header)
        self.header_row.setContentsMargins(24, 10, 24, 10)
        self.hospital = QLabel(self.controller.config.kiosk.hospital_name)
        self.hospital.setObjectName("hospital")
        self.hospital.setMinimumWidth(1)
        self.hospital.setWordWrap(True)  # large text in landscape: the name takes two lines
        c = self.controller
        self.speech_button = _fixed(button("header", c.toggle_speech))
        self.large_button = _fixed(button("header", c.toggle_large_text))
        self.language = _fixed(button("header", self._toggle_language))
        for btn in (self.speech_button, self.large_button):
            btn.setCheckable(True)  # shown pressed while on (``refresh`` sets it from the journey)
        buttons = QHBoxLayout()
        buttons.setSpacing(16)
        buttons.addStretch(1)
        for btn in (self.speech_button, self.large_button, self.language):
            buttons.addWidget(btn)
        self.header_row.addWidget(self.hospital, 1)
        self.header_row.addLayout(buttons)
        return header

    def _speech_bar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("speechbar")
        bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        bar.setMinimumWidth(1)
        self.speech_grid = QGridLayout(bar)
        self.speech_grid.setContentsMargins(24, 8, 24, 8)
        self.speech_grid.setSpacing(16)
        c = self.controller
        self.repeat_button = button("bar", c.repeat_speech)
        self.stop_button = button("bar", c.stop_speech)
        self.quieter_button = button("bar", lambda: c.change_volume(-20))
        self.louder_button = button("bar", lambda: c.change_volume(+20))
        self.volume_label = QLabel()
        self.volume_label.setProperty("role", "volume")
        self.volume_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.speech_problem = QLabel()  # the speaker reported that no sound came out
        self.speech_problem.setProperty("role", "speech-problem")
        self.speech_problem.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.speech_problem.setWordWrap(True)
        self.speech_problem.setMinimumWidth(1)
        self.speech_problem.hide()
        self.speech_bar = bar
        bar.hide()
        return bar

    def _fit_speech_bar(self) -> None:
        """The speech bar's controls in one row when their texts fit side by side at this width
        (in this language and text size), else in two rows — never a text cut ("Repea")."""
        if not self.speech_bar.isVisibleTo(self):
            return
        grid = self.speech_grid
        m = grid.contentsMargins()
        parts = (self.repeat_button, self.stop_button, self.quieter_button, self.volume_label, self.louder_button)
        for w in parts:
            w.ensurePolished()
        one_row = sum(w.sizeHint().width() for w in parts) + grid.horizontalSpacing() * 4 + m.left() + m.right()
        two_rows = self._mode[1] and self._mode[2] or one_row > self.width()
        if two_rows != self._bar_rows:
            self._place_speech_bar(two_rows)

    def _place_speech_bar(self, two_rows: bool) -> None:
        self._bar_rows = two_rows
        grid = self.speech_grid
        for w in (self.repeat_button, self.stop_button, self.quieter_button, self.volume_label, self.louder_button,
                  self.speech_problem):
            grid.removeWidget(w)
        grid.addWidget(self.speech_problem, 2 if two_rows else 1, 0, 1, 6 if two_rows else 5)
        if two_rows:
            grid.addWidget(self.repeat_button, 0, 0, 1, 3)
            grid.addWidget(self.stop_button, 0, 3, 1, 3)
            grid.addWidget(self.quieter_button, 1, 0, 1, 2)
            grid.addWidget(self.volume_label, 1, 2, 1, 2)
            grid.addWidget(self.louder_button, 1, 4, 1, 2)
        else:
            for col, w in enumerate((self.repeat_button, self.stop_button, self.quieter_button, self.volume_label,
                                     self.louder_button)):
                grid.addWidget(w, 0, col, 1, 1)

    def _status_bar(self) -> QWidget:
        bar = QWidget()
        bar.setMinimumWidth(1)
        bar.setObjectName("statusbar")
        bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.status_grid = QGridLayout(bar)
        self.status_grid.setContentsMargins(16, 4, 16, 4)
        self.status = {}
        for name in ("connection", "printer", "reader", "camera"):
            lab = QLabel()
            lab.setProperty("role", "status")
            lab.setMinimumWidth(1)
            self.status[name] = lab
        self._place_status(False)
        return bar

    def _place_status(self, two_rows: bool) -> None:
        for i, lab in enumerate(self.status.values()):
            self.status_grid.removeWidget(lab)
            self.status_grid.addWidget(lab, i // 2 if two_rows else 0, i % 2 if two_rows else i)
        self.status_grid.setColumnStretch(4, 0 if two_rows else 1)

    # --- drawing ---------------------------------------------------------------------------
    def screen_for(self, step: j.Step):
        return self.screens[SCREEN_NAMES.get(step, "busy")]

    def current_screen(self):
        return self.stack.currentWidget()

    def refresh(self) -> None:
        journey = self.controller.journey
        self._apply_style()
        screen = self.screen_for(journey.step)
        screen.show_journey(journey, self.controller)
        if screen is not self.stack.currentWidget():
            screen.scroll_to_top()  # a screen opens at its top, not where it was last left
        self.stack.setCurrentWidget(screen)
        lang = journey.language
        self.language.setText(tr("ui.language.other", lang))
        self.large_button.setText(tr("ui.a11y.large", lang))  # on: shown pressed (inverted colours)
        self.large_button.setChecked(journey.large_text)
        self.speech_button.setText(tr("ui.a11y.speech", lang))
        self.speech_button.setChecked(journey.speech)
        self.speech_button.setVisible(self.controller.speech is not None)
        self.speech_bar.setVisible(journey.speech and self.controller.speech is not None)
        if self.speech_bar.isVisibleTo(self):
            self.repeat_button.setText(tr("ui.a11y.repeat", lang))
            self.stop_button.setText(tr("ui.a11y.stop", lang))
            self.quieter_button.setText(tr("ui.a11y.quieter", lang))
            self.louder_button.setText(tr("ui.a11y.louder", lang))
            self.volume_label.setText(tr("ui.a11y.volume", lang, n=self.controller.speech.volume()))
            self.speech_problem.setText(tr("ui.a11y.cannot_play", lang))
        self.speech_problem.setVisible(self.controller.speech_failed)
        self._fit_speech_bar()
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
        """The patient has gone ("Xong", the idle timeout, cancel): nothing of theirs is kept, and the next
        one starts as configured — every screen at its top, no focus left on a control, the configured
        volume (large text and speech come back to their defaults with the journey)."""
        for screen in self.screens.values():
            screen.clear()
            screen.scroll_to_top()
        focus = QApplication.focusWidget()
        if focus is not None and focus.window() is self:
            focus.clearFocus()
        speech = self.controller.speech
        if speech is not None and speech.volume() != self.controller.config.speech.volume:
            speech.set_volume(self.controller.config.speech.volume)

    def _toggle_language(self) -> None:
        self.controller.send(j.SetLanguage("en" if self.controller.journey.language == "vi" else "vi"))

    def _digits_typed(self) -> int:
        screen = self.current_screen()
        pad = getattr(screen, "pad", None)
        return len(pad.digits) if pad is not None else 0

    def _apply_style(self) -> None:
        u = style.unit_for(max(1, self.width()), max(1, self.height()))
        large = self.controller.journey.large_text
        portrait = self.height() > self.width()
        if abs(u - self._mode[0]) < 0.01 and (large, portrait) == self._mode[1:]:
            return  # a turn from 1080x1920 to 1920x1080 keeps the unit: the header still changes direction
        self._mode = (u, large, portrait)
        self.setStyleSheet(style.stylesheet(u, large))
        self._fit_hospital()
        self.header_row.setDirection(QBoxLayout.Direction.TopToBottom if portrait else QBoxLayout.Direction.LeftToRight)
        self._place_speech_bar(portrait and large)
        self._fit_speech_bar()
        self._place_status(portrait and large)
        for screen in self.screens.values():
            screen.set_mode(u, large)
        photo = self.screens["confirm"].photo
        photo.setFixedSize(round(300 * u), round(400 * u))

    def _fit_hospital(self) -> None:
        """A row beside the header buttons gives the name one line's height: as many as it
        wraps to, at its font now (large text off again: back to fewer, smaller lines)."""
        need = wrapped_height(self.hospital, self.hospital.width())
        if need > 0 and need != self.hospital.minimumHeight():
            self.hospital.setMinimumHeight(need)

    def resizeEvent(self, event):  # noqa: N802
        self._apply_style()
        super().resizeEvent(event)
        self._fit_speech_bar()

    # --- touches -----------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.hospital and event.type() in (QEvent.Type.Resize, QEvent.Type.FontChange):
            self._fit_hospital()
            return False
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
        corner = max(60, style.min_target_px(self._mode[0] or 1.0))
        if point.x() > corner or point.y() > corner:
            return
        now = time.monotonic()
        self._taps = [t for t in self._taps if now - t <= ADMIN_WINDOW_S] + [now]
        if len(self._taps) >= ADMIN_TAPS:
            self._taps.clear()
            self.admin_requested.emit()
