"""Pictures drawn with QPainter: "place your card", "show the QR code", a
busy spinner. Drawn, not shipped as files, so they stay sharp at any size and
need no assets. Each picture draws in a square scaled to the widget."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui import style

CARD = QColor("#D8ECF7")
CARD_EDGE = QColor("#4F7A99")
CHIP = QColor("#D4A72C")
DEVICE = QColor("#2B3440")
ARROW = QColor(style.BLUE)

# A fixed 21x21 pattern that looks like a QR code (finder squares + modules).
_QR_BITS = [
    "111111100101001111111", "100000101110101000001", "101110100011001011101", "101110101101001011101",
    "101110100110101011101", "100000101011001000001", "111111101010101111111", "000000001100100000000",
    "101101110011011010110", "010010001101100101001", "110111100110011101011", "001001011001110010100",
    "111010110110001101111", "000000001011010101000", "111111101100111010110", "100000100111000110101",
    "101110101001101011001", "101110101110010110110", "101110100011101001011", "100000101101010110100",
    "111111101010011101101",
]


class Picture(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)

    def paintEvent(self, event):  # noqa: N802 - Qt naming
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height())
        p.translate((self.width() - side) / 2, (self.height() - side) / 2)
        p.scale(side / 100.0, side / 100.0)
        self.draw(p)
        p.end()

    def draw(self, p: QPainter) -> None:
        raise NotImplementedError


def _arrow_down(p: QPainter, x: float, y0: float, y1: float) -> None:
    p.setPen(QPen(ARROW, 3.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(QPointF(x, y0), QPointF(x, y1 - 4))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(ARROW)
    p.drawPolygon(QPolygonF([QPointF(x - 6, y1 - 6), QPointF(x + 6, y1 - 6), QPointF(x, y1 + 2)]))


def _card(p: QPainter, rect: QRectF, with_qr: bool) -> None:
    p.setPen(QPen(CARD_EDGE, 1.2))
    p.setBrush(CARD)
    p.drawRoundedRect(rect, 3, 3)
    x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
    if with_qr:
        cell = min(w, h) * 0.8 / 21
        ox, oy = x + (w - 21 * cell) / 2, y + (h - 21 * cell) / 2
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("white"))
        p.drawRect(QRectF(ox - cell, oy - cell, 23 * cell, 23 * cell))
        p.setBrush(QColor("#111111"))
        for r, row in enumerate(_QR_BITS):
            for c, bit in enumerate(row):
                if bit == "1":
                    p.drawRect(QRectF(ox + c * cell, oy + r * cell, cell * 1.02, cell * 1.02))
        return
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(CHIP)  # the chip
    p.drawRoundedRect(QRectF(x + w * 0.08, y + h * 0.34, w * 0.16, h * 0.26), 1.5, 1.5)
    p.setBrush(QColor("#9FB7C9"))  # the photo
    p.drawRoundedRect(QRectF(x + w * 0.70, y + h * 0.22, w * 0.22, h * 0.52), 1.5, 1.5)
    p.setBrush(QColor("#7C95AA"))
    for i, length in enumerate((0.34, 0.28, 0.38)):  # text lines
        p.drawRoundedRect(QRectF(x + w * 0.30, y + h * (0.28 + i * 0.16), w * length, h * 0.07), 1, 1)


class CardOnReaderPicture(Picture):
    """A CCCD card coming down onto a flat chip reader."""

    def draw(self, p: QPainter) -> None:
        _card(p, QRectF(22, 6, 56, 35), with_qr=False)
        _arrow_down(p, 50, 45, 62)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(DEVICE)
        p.drawRoundedRect(QRectF(14, 68, 72, 24), 5, 5)
        p.setPen(QPen(QColor("#8EC9F0"), 1.6))  # contactless waves
        p.setBrush(Qt.BrushStyle.NoBrush)
        for r in (4, 7.5, 11):
            p.drawArc(QRectF(50 - r, 80 - r, 2 * r, 2 * r), 30 * 16, 120 * 16)


class QrToCameraPicture(Picture):
    """The QR side of the card held up to the kiosk's camera."""

    def draw(self, p: QPainter) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(DEVICE)
        p.drawRoundedRect(QRectF(30, 4, 40, 20), 5, 5)
        p.setBrush(QColor("#0E1116"))
        p.drawEllipse(QPointF(50, 14), 7.5, 7.5)
        p.setBrush(QColor("#4C7FB3"))
        p.drawEllipse(QPointF(50, 14), 3.8, 3.8)
        p.setBrush(QColor("#DDEEFF"))
        p.drawEllipse(QPointF(48.5, 12.5), 1.2, 1.2)
        _arrow_down(p, 50, 44, 28)  # drawn upwards: from the card to the lens
        _card(p, QRectF(26, 50, 48, 46), with_qr=True)


class Spinner(QWidget):
    """Indeterminate progress: an arc turning while the widget is visible."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._angle = 0
        self._timer = QTimer(self)
        self._timer.setInterval(40)
        self._timer.timeout.connect(self._tick)
        self.setMinimumSize(80, 80)

    def showEvent(self, event):  # noqa: N802
        self._timer.start()

    def hideEvent(self, event):  # noqa: N802
        self._timer.stop()

    def _tick(self) -> None:
        self._angle = (self._angle + 12) % 360
        self.update()

    def paintEvent(self, event):  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height()) * 0.8
        rect = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        width = max(4.0, side / 10)
        p.setPen(QPen(QColor(style.GREY_BG), width))
        p.drawEllipse(rect)
        p.setPen(QPen(ARROW, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawArc(rect, -self._angle * 16, 100 * 16)
        p.end()
