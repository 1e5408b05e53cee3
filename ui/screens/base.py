"""What every screen shares: a title, a body, a notice line, a footer of big
buttons, and helpers to make labels and buttons with the kiosk's style roles."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QRect, Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.catalogue import tr

COMPACT_MARGINS = 0.4  # margins of a screen arranged for large text in landscape

def label(role: str, *, wrap: bool = True, center: bool = False) -> QLabel:
    lab = QLabel()
    lab.setProperty("role", role)
    lab.setWordWrap(wrap)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    if center:
        lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return lab


def wrapped_height(lab: QLabel, width: int) -> int:
    """The height ``lab`` needs for its text wrapped at ``width`` (its whole width), measured
    with its font now: QLabel's own heightForWidth keeps the answer for the font before
    (large text turned off again would keep the large lines' height)."""
    if not lab.text():
        return 0
    lab.ensurePolished()
    m = lab.contentsMargins()
    inner = max(1, width - m.left() - m.right())
    flags = Qt.TextFlag.TextWordWrap if lab.wordWrap() else 0
    rect = lab.fontMetrics().boundingRect(QRect(0, 0, inner, 1 << 20), int(flags) | int(Qt.AlignmentFlag.AlignLeft),
                                          lab.text())
    return rect.height() + m.top() + m.bottom()


def button(kind: str, on_click: Callable[[], None] | None = None) -> QPushButton:
    btn = QPushButton()
    btn.setProperty("kind", kind)
    btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    btn.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    if on_click is not None:
        btn.clicked.connect(lambda _checked=False: on_click())
    return btn


class MoreBelow(QLabel):
    """"More below" across the bottom of a scroll area's view while part of what it holds is
    below the fold: a patient sees at once that there is more (a scroll bar alone is not
    enough). Laid over the view, not in the layout: showing it changes no height. Touches
    go through it to what is under it."""

    def __init__(self, area: QScrollArea):
        super().__init__(area)
        self.area = area
        self.setProperty("role", "more")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        bar = area.verticalScrollBar()
        bar.rangeChanged.connect(self.update_shown)
        bar.valueChanged.connect(self.update_shown)
        area.installEventFilter(self)
        self.hide()

    def set_text(self, text: str) -> None:
        if text != self.text():
            self.setText(text)
        self.update_shown()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.LayoutRequest):
            self.update_shown()
        return False

    def update_shown(self, *_args) -> None:
        bar = self.area.verticalScrollBar()
        more = bool(self.text()) and self.area.widget() is not None and bar.maximum() - bar.value() > 4
        if more:
            view = self.area.viewport().geometry()
            self.ensurePolished()
            height = min(view.height(), self.sizeHint().height())
            self.setGeometry(view.left(), view.bottom() + 1 - height, view.width(), height)
            self.raise_()
        self.setVisible(more)


class Screen(QWidget):
    """Base screen. ``send(event)`` hands a journey event to the controller."""

    def __init__(self, send: Callable[[object], None], parent=None):
        super().__init__(parent)
        self.send = send
        self.lang = "vi"
        self.u = 1.0          # the style unit (ui.style.unit_for)
        self.large = False    # large text and high contrast
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(48, 36, 48, 36)
        self.outer.setSpacing(28)
        self.title = label("title", center=True)
        self.outer.addWidget(self.title)
        # The body scrolls when it needs more room than the screen has (large text in
        # landscape); title, notice and footer buttons always stay in view.
        self.body_box = QWidget()
        self.body_box.setObjectName("body")
        self.body = QVBoxLayout(self.body_box)
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(24)
        self.scroller = QScrollArea()
        self.scroller.setObjectName("scroller")
        self.scroller.setWidget(self.body_box)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.outer.addWidget(self.scroller, 1)
        self.more = MoreBelow(self.scroller)
        self.notice = label("notice", center=True)
        self.notice.hide()
        self.outer.addWidget(self.notice)
        self.footer = QHBoxLayout()
        self.footer.setSpacing(32)
        self.outer.addLayout(self.footer)

    def t(self, key: str, **values) -> str:
        return tr(key, self.lang, **values)

    def notice_beside_buttons(self, beside: bool) -> None:
        """The notice line in the footer row, left of the buttons (a screen that
        needs every pixel of height: landscape with large text), or above it."""
        in_footer = self.footer.indexOf(self.notice) >= 0
        if beside == in_footer:
            return
        if beside:
            self.outer.removeWidget(self.notice)
            self.footer.insertWidget(0, self.notice, 3)
        else:
            self.footer.removeWidget(self.notice)
            self.outer.insertWidget(self.outer.count() - 1, self.notice)
        self.notice.setProperty("compact", beside)  # less padding: as tall as the button beside it
        repolish(self.notice)

    def footer_into(self, row: QBoxLayout | None, buttons) -> None:
        """The footer's ``buttons`` into ``row`` (landscape keypads: beside the keys, which then
        get the body's whole height), or back into the footer (``row`` None)."""
        target = self.footer if row is None else row
        if getattr(self, "_footer_in", self.footer) is target:
            return
        for btn in buttons:
            getattr(self, "_footer_in", self.footer).removeWidget(btn)
            target.addWidget(btn)
        self._footer_in = target

    def set_notice(self, key: str | None, **values) -> None:
        self.notice.setText(self.t(key, **values) if key else "")
        self.notice.setVisible(bool(key))

    def scroll_to_top(self) -> None:
        """Every scrolling part of the screen back at its start."""
        for area in self.findChildren(QScrollArea):
            area.verticalScrollBar().setValue(0)
            area.horizontalScrollBar().setValue(0)

    def show_journey(self, journey, ctx) -> None:
        """Fill the widgets from the journey; ``ctx`` is the controller (devices, config)."""
        self.lang = journey.language
        self.set_notice(journey.notice)
        self.render(journey, ctx)
        for cue in self.findChildren(MoreBelow):
            cue.set_text(self.t("ui.more_below"))

    def render(self, journey, ctx) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        """Forget anything personal shown on this screen."""

    def is_landscape(self) -> bool:
        return self.width() > self.height()

    def set_margins(self, u: float) -> None:
        m = round(48 * u)
        if self.outer.contentsMargins().left() == m and self.outer.spacing() == round(26 * u):
            return  # unchanged: do not invalidate the layout (wrapped labels keep their heights)
        self.outer.setContentsMargins(m, round(30 * u), m, round(30 * u))
        self.outer.setSpacing(round(26 * u))
        self.footer.setSpacing(round(32 * u))

    stacked_footer = False  # a screen whose footer buttons are always one under the other
    short_footer = False  # short button texts: side by side even with large text in portrait (a keypad's room)
    tight_when_compact = False  # a screen arranged for large text in landscape also takes the tightest margins

    def is_compact(self) -> bool:
        """Large text in landscape: height is scarce."""
        return self.large and self.is_landscape()

    def margin_scale(self) -> float:
        """Margins as a share of the normal ones: large text takes the room margins had,
        a screen arranged for compact mode takes even more."""
        if self.tight_when_compact and self.is_compact():
            return COMPACT_MARGINS
        return 0.6 if self.large else 1.0

    def set_mode(self, u: float, large: bool) -> None:
        """The window's style unit and whether large text is on: margins, then layout."""
        self.u, self.large = u, large
        self.arrange()

    def arrange(self) -> None:
        """Margins, footer and layout for the current size and mode."""
        self.set_margins(self.u * self.margin_scale())
        self._place_footer()
        self.relayout()

    def _place_footer(self) -> None:
        """Footer buttons side by side, or one under the other when they would not fit
        (portrait with large text, or a screen that asks for it)."""
        stacked = self.stacked_footer or (self.large and not self.is_landscape() and not self.short_footer)
        self.footer.setDirection(QBoxLayout.Direction.BottomToTop if stacked else QBoxLayout.Direction.LeftToRight)

    def relayout(self) -> None:
        """Arrange the screen for its orientation and text size (called on resize and mode change)."""

    def resizeEvent(self, event):  # noqa: N802
        self.arrange()
        super().resizeEvent(event)


def set_direction(layout: QBoxLayout, landscape: bool) -> None:
    layout.setDirection(QBoxLayout.Direction.LeftToRight if landscape else QBoxLayout.Direction.TopToBottom)


def repolish(widget: QWidget) -> None:
    """Apply the style sheet again after a property it selects on changed. An
    own (empty) style sheet makes Qt recompute everything, the contents margins
    a label takes from its padding included (unpolish/polish leave them)."""
    widget.setStyleSheet("/* repolished */" if widget.styleSheet() == "" else "")

