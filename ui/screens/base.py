"""What every screen shares: a title, a body, a notice line, a footer of big
buttons, and helpers to make labels and buttons with the kiosk's style roles."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ..catalogue import tr


def label(role: str, *, wrap: bool = True, center: bool = False) -> QLabel:
    lab = QLabel()
    lab.setProperty("role", role)
    lab.setWordWrap(wrap)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    if center:
        lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return lab


def button(kind: str, on_click: Callable[[], None] | None = None) -> QPushButton:
    btn = QPushButton()
    btn.setProperty("kind", kind)
    btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    btn.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    if on_click is not None:
        btn.clicked.connect(lambda _checked=False: on_click())
    return btn


class Screen(QWidget):
    """Base screen. ``send(event)`` hands a journey event to the controller."""

    def __init__(self, send: Callable[[object], None], parent=None):
        super().__init__(parent)
        self.send = send
        self.lang = "vi"
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(48, 36, 48, 36)
        self.outer.setSpacing(28)
        self.title = label("title", center=True)
        self.outer.addWidget(self.title)
        self.body = QVBoxLayout()
        self.body.setSpacing(24)
        self.outer.addLayout(self.body, 1)
        self.notice = label("notice", center=True)
        self.notice.hide()
        self.outer.addWidget(self.notice)
        self.footer = QHBoxLayout()
        self.footer.setSpacing(32)
        self.outer.addLayout(self.footer)

    def t(self, key: str, **values) -> str:
        return tr(key, self.lang, **values)

    def set_notice(self, key: str | None, **values) -> None:
        self.notice.setText(self.t(key, **values) if key else "")
        self.notice.setVisible(bool(key))

    def show_journey(self, journey, ctx) -> None:
        """Fill the widgets from the journey; ``ctx`` is the controller (devices, config)."""
        self.lang = journey.language
        self.set_notice(journey.notice)
        self.render(journey, ctx)

    def render(self, journey, ctx) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        """Forget anything personal shown on this screen."""

    def is_landscape(self) -> bool:
        return self.width() > self.height()

    def set_margins(self, u: float) -> None:
        m = round(48 * u)
        self.outer.setContentsMargins(m, round(30 * u), m, round(30 * u))
        self.outer.setSpacing(round(26 * u))
        self.footer.setSpacing(round(32 * u))


def set_direction(layout: QBoxLayout, landscape: bool) -> None:
    layout.setDirection(QBoxLayout.Direction.LeftToRight if landscape else QBoxLayout.Direction.TopToBottom)
