"""The short privacy notice (``kiosk.journey.notice``), as one self-contained widget: the
welcome screen shows it before the card is read, the consent screen
(``privacy.consent = "tap"``) above its two buttons. A QR code beside the text opens the
hospital's full notice (``privacy.notice_url``; none when the setting is empty)."""
from __future__ import annotations

import segno
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout

from kiosk.journey.notice import notice_body, notice_title
from ui.screens.base import label

QR_MM_PX = 150  # the QR's side at style unit 1 (about 4 cm on a 27" kiosk: a phone reads it at arm's length)


def qr_pixmap(payload: str, side: int) -> QPixmap:
    """The QR code, black on white with its quiet zone, scaled to about ``side`` pixels."""
    code = segno.make(payload, error="m", micro=False)
    rows = [list(r) for r in code.matrix_iter(scale=1, border=4)]
    n = len(rows)
    img = QImage(n, n, QImage.Format.Format_RGB32)
    black, white = QColor(0, 0, 0).rgb(), QColor(255, 255, 255).rgb()
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            img.setPixel(x, y, black if dark else white)
    scale = max(2, side // n)
    return QPixmap.fromImage(img.scaled(n * scale, n * scale, Qt.AspectRatioMode.IgnoreAspectRatio,
                                        Qt.TransformationMode.FastTransformation))


class PrivacyNotice(QFrame):
    """Title, a few lines, and the QR code to the full notice."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("privacy_notice")
        self.setProperty("role", "who")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = QHBoxLayout(self)
        text = QVBoxLayout()
        text.setSpacing(6)
        self.title = label("who-text")
        self.text = label("field-label")
        text.addWidget(self.title)
        text.addWidget(self.text)
        row.addLayout(text, 1)
        self.qr = QLabel()
        self.qr.setObjectName("privacy_qr")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignVCenter)
        self._qr_for: tuple[str, int] | None = None

    def show_notice(self, settings, lang: str, unit: float = 1.0, *, brief: bool = False) -> None:
        """``brief``: the two-line form (large text on the welcome screen)."""
        self.title.setText(notice_title(lang))
        self.text.setText("\n".join(notice_body(settings, lang, brief=brief)))
        url = settings.notice_url
        self.qr.setVisible(bool(url))
        side = round(QR_MM_PX * unit)
        if url and self._qr_for != (url, side):
            self.qr.setPixmap(qr_pixmap(url, side))
            self._qr_for = (url, side)
