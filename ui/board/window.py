"""The calling board's window: per clinic room the number being served (very
large), the next numbers and the last few called, a clock, and a banner when
the HIS could not be read. Readable from 5 m: white and yellow on near-black
(contrast > 15:1), the served number about a quarter of the screen height.

The window only draws ``kiosk.board.model.BoardSnapshot``s handed to ``show_snapshot``
on the GUI thread; polling and calling happen elsewhere (``ui.board.app``).
Portrait screens stack the rooms, landscape screens put them side by side.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.board.model import BoardSnapshot, Call, RoomView, ShownNumber
from kiosk.texts.messages import t

BG = "#05080c"
PANEL = "#101a26"
INK = "#ffffff"
YELLOW = "#ffd21f"  # served number: contrast on BG ≈ 14:1
CYAN = "#7fe3ff"
GREY = "#b9c3cf"
HEADER = "#0b3d7a"
STALE_BG, STALE_INK = "#ffd21f", "#1a1200"
FONT = "DejaVu Sans"
FLASH_TOGGLES = 12  # 6 s at 500 ms
PRIORITY_MARK = "★"
BUTTON_PAD_Y, BUTTON_PAD_X, BUTTON_GAP = 4, 6, 6  # a demo button's padding inside its border, the gap between
LINE = 1.42  # line height / font size that keeps Vietnamese stacked marks (Ầ, Ố) unclipped


def _font(px: float, bold: bool = True) -> QFont:
    f = QFont(FONT)
    f.setPixelSize(max(8, int(px)))
    f.setBold(bold)
    return f


def _label(text: str = "", color: str = INK, align=Qt.AlignmentFlag.AlignCenter) -> QLabel:
    lab = QLabel(text)
    lab.setAlignment(align)
    lab.setStyleSheet(f"color: {color}; background: transparent;")
    return lab


class RoomPanel(QFrame):
    """One clinic room on the board."""

    def __init__(self, code: str, name: str, lang: str, demo_actions: Callable[[str, str], None] | None):
        super().__init__()
        self.code = code
        self.lang = lang
        self.flash_left = 0
        self.flash_on = False
        self.setObjectName("room")
        self.setStyleSheet(f"QFrame#room {{ background: {PANEL}; border-radius: 14px; }}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 10, 16, 10)
        lay.setSpacing(4)
        self.title = _label(name, INK)
        self.title.setWordWrap(True)
        self.serving_caption = _label(t("board.serving", lang), GREY)
        self.serving_box = QFrame()
        box = QVBoxLayout(self.serving_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        self.serving = _label(t("board.none", lang), YELLOW)
        self.serving_name = _label("", INK)
        box.addWidget(self.serving)
        box.addWidget(self.serving_name)
        self.next_caption = _label(t("board.next", lang), GREY)
        self.next_numbers = _label("", CYAN)
        self.next_numbers.setWordWrap(True)
        self.next_more = _label("", GREY)
        self.recent = _label("", GREY)
        for w in (self.title, self.serving_caption, self.serving_box, self.next_caption, self.next_numbers,
                  self.next_more, self.recent):
            lay.addWidget(w)
        lay.setStretch(2, 5)
        lay.setStretch(4, 2)
        self.buttons: dict[str, QPushButton] = {}
        if demo_actions is not None:
            row = QGridLayout()  # two by two: each label has half the room's width
            row.setSpacing(BUTTON_GAP)
            for i, (action, key) in enumerate((("call-next", "board.call_next"), ("recall", "board.recall"),
                                               ("start", "board.start"), ("skip", "board.skip"))):
                b = QPushButton(t(key, lang))
                b.setObjectName(f"{action}-{code}")
                b.setStyleSheet("QPushButton { background: #1d5fb8; color: white; border: none; "
                                f"border-radius: 8px; padding: {BUTTON_PAD_Y}px {BUTTON_PAD_X}px; font-weight: bold; }}"
                                "QPushButton:disabled { background: #3a4654; color: #c0c8d0; }")
                b.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
                b.clicked.connect(lambda _=False, a=action: demo_actions(a, code))
                row.addWidget(b, i // 2, i % 2)
                self.buttons[action] = b
            lay.addLayout(row)

    def update_view(self, view: RoomView, show_names: bool) -> None:
        _set_text(self.title, view.name)
        s = view.serving
        _set_text(self.serving, s.label if s else t("board.none", self.lang))
        _set_text(self.serving_name, s.masked_name if (s and show_names) else "")
        if self.serving_name.isHidden() == show_names:
            self.serving_name.setVisible(show_names)
        _set_text(self.next_numbers, "   ".join(_number_text(w) for w in view.waiting) or t("board.none", self.lang))
        more = view.waiting_total - len(view.waiting)
        counts = (t("board.waiting_more", self.lang, count=more) if more > 0
                  else t("board.waiting_count", self.lang, count=view.waiting_total))
        if any(w.priority is not None for w in view.waiting):
            counts += "  ·  " + t("board.priority_legend", self.lang, mark=PRIORITY_MARK)
        _set_text(self.next_more, counts)
        absent = t("board.absent", self.lang)
        recent = "  ".join(f"{r.label} ({absent})" if r.no_show else r.label for r in view.recent)
        _set_text(self.recent, f"{t('board.recent', self.lang)}: {recent}" if recent else "")

    def flash(self) -> None:
        self.flash_left = FLASH_TOGGLES
        self.tick_flash()

    def tick_flash(self) -> None:
        if self.flash_left <= 0:
            on = False
        else:
            self.flash_left -= 1
            on = self.flash_left % 2 == 1
        if on != self.flash_on or self.flash_left == 0:
            self.flash_on = on
            bg, fg = (YELLOW, BG) if on else ("transparent", YELLOW)
            self.serving_box.setStyleSheet(f"background: {bg}; border-radius: 12px;")
            self.serving.setStyleSheet(f"color: {fg}; background: transparent;")
            self.serving_name.setStyleSheet(f"color: {BG if on else INK}; background: transparent;")

    def apply_sizes(self, w: int, h: int) -> None:
        """Font sizes from the panel's own size: the served number gets about
        a third of the panel's height (3-4 characters wide); everything is
        scaled down together when the lines would not fit (many rooms)."""
        sizes = {
            self.title: (min(h * 0.07, w / 14), True),
            self.serving_caption: (min(h * 0.045, w / 18), True),
            self.serving: (min(h * 0.30, w / 2.6), True),
            self.serving_name: (min(h * 0.05, w / 16), False),
            self.next_caption: (min(h * 0.045, w / 18), True),
            self.next_numbers: (min(h * 0.09, w / 11.5), True),
            self.next_more: (min(h * 0.04, w / 22), False),
            self.recent: (min(h * 0.05, w / 16), False),
        }
        fixed = 20 + 4 * len(sizes) + (self._size_buttons(w, h) if self.buttons else 0)
        needed = sum(px for px, _ in sizes.values()) * LINE
        scale = min(1.0, max(0.1, (h - fixed) / needed)) if needed else 1.0
        for label, (px, bold) in sizes.items():
            _size(label, px * scale, bold)

    def _size_buttons(self, w: int, h: int) -> int:
        """The demo buttons' font: made smaller until every label fits its
        button's width; the row's height is kept for it (a label is never
        squeezed out of sight). Returns that height."""
        from PySide6.QtGui import QFontMetrics

        px = max(9.0, min(h * 0.035, w / 26))
        each = (w - 32 - BUTTON_GAP) / 2 - 2 * BUTTON_PAD_X - 4
        widest = max(self.buttons.values(), key=lambda b: QFontMetrics(_font(px)).horizontalAdvance(b.text()))
        while px > 8 and QFontMetrics(_font(px)).horizontalAdvance(widest.text()) > each:
            px *= 0.92
        height = QFontMetrics(_font(px)).height() + 2 * BUTTON_PAD_Y + 4
        for b in self.buttons.values():
            b.setFont(_font(px))
            b.setFixedHeight(height)
        return 2 * height + BUTTON_GAP


def _size(label: QLabel, px: float, bold: bool = True) -> None:
    """Font size plus enough line height for Vietnamese stacked marks (Ầ, Ố)."""
    label.setFont(_font(px, bold))
    label.setMinimumHeight(int(max(8, px) * LINE))


def _fit(label: QLabel, px: float, width: float) -> None:
    """``_size`` with the font made smaller until the text fits ``width``."""
    from PySide6.QtGui import QFontMetrics

    while px > 10 and QFontMetrics(_font(px)).horizontalAdvance(label.text()) > width:
        px *= 0.92
    _size(label, px)


def _set_text(label: QLabel, text: str) -> None:
    """Only touch a label that changes: no repaint (and no Qt call) per poll."""
    if label.text() != text:
        label.setText(text)


def _number_text(n: ShownNumber) -> str:
    return f"{PRIORITY_MARK}{n.label}" if n.priority is not None else n.label


class BoardWindow(QWidget):
    """The whole board. ``orientation``: auto (from the window's shape),
    landscape or portrait."""

    def __init__(self, *, title: str, hospital: str, rooms: list[tuple[str, str]], clock,
                 lang: str = "vi", show_names: bool = True, orientation: str = "auto",
                 demo_actions: Callable[[str, str], None] | None = None):
        super().__init__()
        self.setObjectName("board")
        self.setWindowTitle(f"{hospital} — {title or t('board.all_rooms', lang)}")
        self.setStyleSheet(f"QWidget#board {{ background: {BG}; }}")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.clock = clock
        self.lang = lang
        self.show_names = show_names
        self.orientation = orientation
        self.snapshot: BoardSnapshot | None = None
        self.last_call_text = ""

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.header = QFrame()
        self.header.setStyleSheet(f"background: {HEADER};")
        head = QHBoxLayout(self.header)
        head.setContentsMargins(24, 8, 24, 8)
        self.hospital = _label(hospital, INK, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.title = _label(title or t("board.all_rooms", lang), INK)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hospital.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.clock_label = _label("", INK, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        head.addWidget(self.hospital, 3)
        head.addWidget(self.title, 3)
        head.addWidget(self.clock_label, 2)
        self.stale = _label("", STALE_INK)
        self.stale.setStyleSheet(f"background: {STALE_BG}; color: {STALE_INK}; padding: 8px;")
        self.stale.setObjectName("stale-banner")
        self.stale.hide()
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(14, 14, 14, 14)
        self.grid.setSpacing(14)
        self.ticker = _label("", YELLOW)
        self.ticker.setStyleSheet(f"background: {HEADER}; color: {YELLOW}; padding: 6px;")
        outer.addWidget(self.header)
        outer.addWidget(self.stale)
        outer.addWidget(self.grid_host, 1)
        outer.addWidget(self.ticker)
        self.panels = {code: RoomPanel(code, name, lang, demo_actions) for code, name in rooms}
        self._placed_as: tuple[str, bool] | None = None

        self._clock_timer = QTimer(self)
        self._clock_timer.timeout.connect(self._tick)
        self._clock_timer.start(500)
        self._tick()

    # --- data ---
    def show_snapshot(self, snapshot: BoardSnapshot) -> None:
        self.snapshot = snapshot
        for view in snapshot.rooms:
            panel = self.panels.get(view.code)
            if panel is not None:
                panel.update_view(view, self.show_names)
        if snapshot.stale:
            since = snapshot.updated_at.strftime("%H:%M") if snapshot.updated_at else "--:--"
            _set_text(self.stale, t("board.stale", self.lang, time=since))
            if self.stale.isHidden():
                self.stale.show()
        elif not self.stale.isHidden():
            self.stale.hide()

    def show_calls(self, calls: list[Call]) -> None:
        for call in calls:
            panel = self.panels.get(call.room_code)
            if panel is not None:
                panel.flash()
            self.last_call_text = t("board.calling", self.lang, label=call.label, room=call.room_name)
            self.ticker.setText(self.last_call_text)

    def set_busy(self, room: str, busy: bool) -> None:
        for b in self.panels[room].buttons.values():
            b.setEnabled(not busy)

    # --- layout ---
    def current_orientation(self) -> str:
        if self.orientation != "auto":
            return self.orientation
        return "portrait" if self.height() > self.width() else "landscape"

    def _place_panels(self) -> None:
        orient = self.current_orientation()
        n = len(self.panels)
        # A strip (more than twice as wide as high, e.g. `kiosk demo --board` beside the kiosk):
        # two rows of rooms, each tall enough for its numbers and buttons.
        wide = orient == "landscape" and n > 8 and self.width() > 2.1 * self.height()
        if (orient, wide) == self._placed_as:
            return
        self._placed_as = (orient, wide)
        for panel in self.panels.values():
            self.grid.removeWidget(panel)
        if orient == "landscape":
            cols = n if n <= 4 else math.ceil(n / 2) if n <= 8 or wide else math.ceil(n / 3)
        else:
            cols = 1 if n <= 3 else 2 if n <= 8 else 3
        for col in range(self.grid.columnCount()):
            self.grid.setColumnStretch(col, 0)
        for row in range(self.grid.rowCount()):
            self.grid.setRowStretch(row, 0)
        for i, panel in enumerate(self.panels.values()):
            self.grid.addWidget(panel, i // cols, i % cols)
            panel.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            self.grid.setColumnStretch(i % cols, 1)
            self.grid.setRowStretch(i // cols, 1)
        self.cols, self.rows = cols, math.ceil(n / cols) if n else 1

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._place_panels()
        w, h = self.width(), self.height()
        short = min(w, h)
        share = (w - 48) / 8  # header stretch 3 : 3 : 2
        _fit(self.hospital, short * 0.028, 3 * share - 12)
        _fit(self.title, short * 0.04, 3 * share - 12)
        _size(self.clock_label, short * 0.05)
        _size(self.stale, short * 0.035)
        _size(self.ticker, short * 0.045)
        avail_h = h * 0.82
        pw = (w - 14 * (self.cols + 1)) / max(1, self.cols)
        ph = (avail_h - 14 * (self.rows + 1)) / max(1, self.rows)
        for panel in self.panels.values():
            panel.apply_sizes(int(pw), int(ph))

    def _tick(self) -> None:
        now: datetime = self.clock.now()
        _set_text(self.clock_label, now.strftime("%H:%M:%S"))
        for panel in self.panels.values():
            if panel.flash_left:
                panel.tick_flash()
