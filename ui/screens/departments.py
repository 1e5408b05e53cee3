"""Walk-in: the department screen — one big button per department, with how
many are waiting — and its layout for landscape (two columns: every department on screen)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.journey import machine as j
from ui.screens.base import COMPACT_MARGINS, MoreBelow, Screen, button, label, repolish, set_direction, wrapped_height
from ui.screens.visit import PriorityToggles, WhoBox

QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's "no maximum"


class ChoiceButton(QPushButton):
    """A big button with a bold name and a smaller second line, both wrapping."""

    def __init__(self, on_click, parent=None):
        super().__init__(parent)
        self.setProperty("kind", "choice")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.clicked.connect(lambda _checked=False: on_click())
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(24, 12, 24, 12)
        self.lay.setSpacing(0)
        self.name = label("choice-name")
        self.count = label("choice-detail")
        self.lay.addStretch(1)
        for lab in (self.name, self.count):
            lab.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            lab.installEventFilter(self)  # its font changes with the text size: its lines again
            self.lay.addWidget(lab)
        self.lay.addStretch(1)

    def fit_lines(self) -> None:
        """Each label as tall as its wrapped lines at the button's width (a long name takes two
        lines: the button grows with it instead of cutting the second line off)."""
        m = self.lay.contentsMargins()
        width = self.contentsRect().width() - m.left() - m.right()
        if width <= 0:
            return
        for lab in (self.name, self.count):
            need = wrapped_height(lab, width)
            if need > 0 and need != lab.minimumHeight():
                lab.setMinimumHeight(need)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.fit_lines()
        return False

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.fit_lines()  # a label's text changed
        return super().event(event)

    def resizeEvent(self, event):  # noqa: N802
        super().resizeEvent(event)
        self.fit_lines()

    def showEvent(self, event):  # noqa: N802
        super().showEvent(event)
        self.fit_lines()

    def set_compact(self, compact: bool) -> None:
        """Less padding around the two lines (landscape with large text: four rows must fit)."""
        if self.property("compact") == compact:
            return
        self.setProperty("compact", compact)
        self.lay.setContentsMargins(*((12, 0, 12, 0) if compact else (24, 12, 24, 12)))
        repolish(self)


class DepartmentScreen(Screen):
    """Walk-in: one big button per department, with how many are waiting.

    Portrait: who the patient is, the priority buttons, then the departments, two
    side by side (with large text a long name wraps; the body scrolls, and a "more below"
    cue shows there is more). Landscape: two columns — who and priority on the left, the
    departments on the right (three side by side with normal text when the names
    fit, else two) — with a shorter title and the notice beside the footer button,
    so that every department button is on screen without scrolling."""

    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.split = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.split.setSpacing(24)
        self.side = QWidget()
        self.side.setObjectName("body")  # transparent, as the body (ui.style)
        side = QVBoxLayout(self.side)
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(24)
        self.who = WhoBox()
        side.addWidget(self.who)
        self.priority = PriorityToggles(send)
        side.addWidget(self.priority)
        self.status = label("body", center=True)
        side.addWidget(self.status)
        self.side_end = QWidget()  # takes the left column's spare height (two columns only)
        self.side_end.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        side.addWidget(self.side_end)
        self.split.addWidget(self.side, 2)
        # two columns: the left one scrolls on its own when it holds more than fits (a long BHYT line in
        # English while offline); the departments never do
        self.side_scroll = QScrollArea()
        self.side_scroll.setObjectName("scroller")
        self.side_scroll.setWidgetResizable(True)
        self.side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_scroll.hide()
        MoreBelow(self.side_scroll)
        self.grid_box = QWidget()
        self.grid = QGridLayout(self.grid_box)
        self.grid.setSpacing(22)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.split.addWidget(self.grid_box, 3)
        self.body.addLayout(self.split, 1)  # more than fits scrolls with the body
        self.buttons: list = []
        self.retry = button("primary", lambda: self.send(j.Retry()))
        self.home = button("secondary", lambda: self.send(j.GoHome()))
        self.footer.addWidget(self.home)
        self.footer.addWidget(self.retry)
        self._columns = 0
        self._codes: list[str] = []
        self._shown = None  # (journey, controller) last shown: re-fitted when the window turns
        self._two = False
        self._fits: dict[tuple, bool] = {}  # _names_fit's answers, by size, text size and names

    @property
    def two_columns(self) -> bool:
        """Landscape: who and priority on the left, the departments on the right (every
        department on screen); with large text only when the names fit the narrower
        buttons. Asked several times per layout, measured once for each size, text size
        and set of names."""
        if not self.is_landscape():
            return False
        return not self.large or self._fit(2)

    def grid_columns(self) -> int:
        """How many department buttons side by side."""
        if not self.is_landscape():
            return 2  # large text too: a long name wraps (each label takes its lines), twice as many in view
        if self.large:
            return 2
        return 3 if self._fit(3) else 2

    def _fit(self, columns: int) -> bool:
        key = (columns, self.width(), self.u, self.large,
               self.buttons[0].name.font().key() if self.buttons else "",
               tuple(b.name.text() for b in self.buttons))
        if key not in self._fits:
            if len(self._fits) > 16:
                self._fits.clear()
            self._fits[key] = self._names_fit(columns)
        return self._fits[key]

    def _names_fit(self, columns: int) -> bool:
        """Whether every department's name fits on one line of a compact button
        in the right column (long English names do not: the usual layout then,
        which scrolls, rather than names cut off)."""
        if not self.buttons:
            return True
        w = self.width()
        both = w - 2 * round(48 * self.u * COMPACT_MARGINS) - self.split.spacing()  # the two-column layout's margins
        side = min(round(w * 0.4), both * 2 / 5)  # its maximum width, or its share (stretch 2 : 3)
        column = (both - side - 8 * (columns - 1)) / columns  # button columns, 8 px apart
        text = column - 2 * 12  # the name label: the button's width less its layout's margins
        metrics = self.buttons[0].name.fontMetrics()
        return all(metrics.horizontalAdvance(b.name.text()) <= text for b in self.buttons)

    def render(self, journey, ctx) -> None:
        self._shown = (journey, ctx)
        self.home.setText(self.t("ui.confirm.no" if journey.short_flow and journey.identity else "ui.action.cancel"))
        self.retry.setText(self.t("ui.action.retry"))
        self._show_departments(journey)
        self.arrange()  # the names (or the language) decide whether two columns fit; then the texts

    def _fit_texts(self) -> None:
        """What depends on the orientation and text size: the title, who, the priority buttons."""
        if self._shown is None:
            return
        journey, ctx = self._shown
        two = self.two_columns
        self.title.setText(self.t("ui.department.title_short" if two else "ui.department.title"))
        self.who.show_journey(journey, ctx, self.t, narrow=two)
        self.who.upgrade.setVisible(self.who.upgrade.isVisibleTo(self.who) and not two)
        self.priority.show_journey(journey, self.t, self.large, self.is_landscape(), narrow=two)

    def _show_departments(self, journey) -> None:
        depts = journey.departments
        self.retry.setVisible(journey.departments_failed and not depts)
        self.status.setVisible(not depts)
        self.status.setText(self.t("ui.department.failed" if journey.departments_failed else "ui.department.loading"))
        codes = [d.code for d in depts]
        if codes != self._codes:
            self._codes = codes
            self._build(len(codes))
        for btn, dept in zip(self.buttons, depts):
            btn.name.setText(dept.name_en or dept.name if self.lang == "en" else dept.name)
            btn.count.setText(self.t("ui.department.waiting", n=journey.waiting.get(dept.code, 0))
                              if journey.waiting is not None else "")
            btn.count.setVisible(journey.waiting is not None)

    def _side_scrolls(self, on: bool) -> None:
        """Put the left column in its own scroll area (two columns), or back in the body."""
        if on == (self.side_scroll.widget() is self.side):
            return
        if on:
            self.split.removeWidget(self.side)
            self.side_scroll.setWidget(self.side)
            self.split.insertWidget(0, self.side_scroll, 2)
        else:
            self.split.removeWidget(self.side_scroll)
            self.side_scroll.takeWidget()
            self.split.insertWidget(0, self.side, 2)
        self.side_scroll.setVisible(on)
        self.side.show()

    def _build(self, count: int) -> None:
        for btn in self.buttons:
            btn.deleteLater()
        self.buttons = [ChoiceButton(lambda i=i: self.send(j.ChooseDepartment(self._codes[i])))
                        for i in range(count)]
        self._columns = 0
        self._place()

    def _place(self) -> None:
        columns = self.grid_columns()
        two = self.two_columns
        for btn in self.buttons:
            btn.set_compact(two)
        if columns == self._columns:
            return
        self._columns = columns
        for i, btn in enumerate(self.buttons):
            self.grid.addWidget(btn, i // columns, i % columns)

    def clear(self) -> None:
        self.who.clear()
        self._shown = None

    def margin_scale(self) -> float:
        return COMPACT_MARGINS if self.two_columns else super().margin_scale()  # two columns: height is scarce

    def relayout(self) -> None:
        self._fit_texts()
        two = self.two_columns
        set_direction(self.split, two)
        if two != self._two:
            self._two = two
            self._side_scrolls(two)
            side = self.side.layout()  # two columns: the priority buttons first (actions before reading)
            side.insertWidget(0, self.priority if two else self.who)
            side.insertWidget(1, self.who if two else self.priority)
            side.setSpacing(10 if two else 24)
            self.side_end.setVisible(two)
            self.grid.setSpacing(8 if two else 22)
        # two columns: the departments get three fifths of the width (their names stay on one line)
        self.side_scroll.setMaximumWidth(round(self.width() * 0.4) if two else QWIDGETSIZE_MAX)
        self.notice_beside_buttons(two)
        self._place()
        for btn in self.buttons:  # the text size changed: each label's lines at its new font
            btn.fit_lines()
