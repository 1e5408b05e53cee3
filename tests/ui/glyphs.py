"""Does every text on the kiosk window render whole? For each visible label and
button, the ink the widget really shows (its grab with the text, less its grab
with the text taken away) is compared with the same text drawn with the same
font on an unconstrained canvas: a mark cut off above a capital (NGUYỄN read as
"NGUYÊN"), a line lost at the bottom or a word cut at the side makes the shown
ink smaller than the drawn one."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFontMetrics, QImage, QPainter, QRegion
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

INK_DIFF = 48  # a pixel is ink when a channel differs this much from the background
PAD = 200      # room around the unconstrained text


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    arr = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    return arr.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, :image.width(), :3].astype(np.int16)


def ink_rows_cols(mask: np.ndarray) -> tuple[int, int]:
    """(height, width) of the ink's bounding box; (0, 0) without ink."""
    rows, cols = np.where(mask.any(axis=1))[0], np.where(mask.any(axis=0))[0]
    if not len(rows):
        return 0, 0
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def rendered(widget: QWidget) -> np.ndarray:
    """The widget painted on a magenta canvas of its own size (what it shows, its own clipping included)."""
    image = QImage(widget.size(), QImage.Format.Format_RGB32)
    image.fill(0xFFFF00FF)
    # no window background: it would be the palette's (white) under a white header text
    widget.render(image, QPoint(0, 0), QRegion(), QWidget.RenderFlag.DrawChildren)
    return pixels(image)


def shown_ink(widget: QWidget) -> tuple[int, int]:
    """The ink of the widget's text as the widget shows it (clipped to its rectangle)."""
    with_text = rendered(widget)
    text = widget.text()
    widget.blockSignals(True)
    widget.setText("")
    try:
        without = rendered(widget)
    finally:
        widget.setText(text)
        widget.blockSignals(False)
    if with_text.shape != without.shape:
        return 0, 0
    return ink_rows_cols(np.abs(with_text - without).max(axis=2) >= INK_DIFF)


def drawn_ink(widget: QWidget) -> tuple[int, int]:
    """The ink of the same text drawn with the widget's font, wrapped as the widget wraps it, unclipped."""
    font = widget.font()
    text = widget.text()
    fm = QFontMetrics(font)
    wrap = isinstance(widget, QLabel) and widget.wordWrap()
    width = widget.contentsRect().width() if wrap else max(fm.horizontalAdvance(line) for line in text.split("\n"))
    lines = max(1, text.count("\n") + 1)
    height = fm.boundingRect(QRect(0, 0, max(1, width), 100000), Qt.TextFlag.TextWordWrap, text).height() \
        if wrap else fm.height() * lines
    image = QImage(max(1, width) + 2 * PAD, height + 2 * PAD, QImage.Format.Format_RGB32)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    painter.setFont(font)
    painter.setPen(Qt.GlobalColor.black)
    flags = (Qt.TextFlag.TextWordWrap if wrap else 0) | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
    painter.drawText(QRect(PAD, PAD, max(1, width), height), int(flags) if not isinstance(flags, int) else flags, text)
    painter.end()
    return ink_rows_cols((255 - pixels(image)).max(axis=2) >= INK_DIFF)


def text_widgets(window) -> list[QWidget]:
    """The visible labels and buttons with text: the current screen's, the header's and the speech bar's."""
    out = []
    for w in window.findChildren(QLabel) + window.findChildren(QPushButton):
        if not w.isVisibleTo(window) or not w.text().strip() or w.width() <= 1 or w.height() <= 1:
            continue
        if window.stack.isAncestorOf(w) and not window.current_screen().isAncestorOf(w):
            continue  # another step's screen
        if isinstance(w, QLabel) and w.pixmap() is not None and not w.pixmap().isNull():
            continue
        out.append(w)
    return out


def clipped_texts(window) -> list[str]:
    """Every text widget whose shown ink is smaller than its drawn ink (tolerance: antialiasing)."""
    problems = []
    for w in text_widgets(window):
        want_h, want_w = drawn_ink(w)
        got_h, got_w = shown_ink(w)
        tol = 2 + round(0.03 * w.font().pixelSize())
        wrapped = isinstance(w, QLabel) and w.wordWrap()  # may break its lines elsewhere: its height tells
        if got_h + tol < want_h or (got_w + tol < want_w and not wrapped):
            kind = type(w).__name__
            problems.append(f"{kind} {w.text()[:40]!r}: ink {got_w}x{got_h}px shown, {want_w}x{want_h}px written "
                            f"(widget {w.width()}x{w.height()})")
    return problems
