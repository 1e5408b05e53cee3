"""The screens read back by OCR: Debian's tesseract (tesseract-ocr, tesseract-ocr-vie)
reads the patient's name and the hospital's name off crops of the kiosk window,
and finds every one with all its marks (NFC). Only the name-bearing screens, in
two modes (portrait with normal text, landscape with large text)."""
from __future__ import annotations

import shutil
import subprocess
import unicodedata

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.demo_controls import SimulatorControls
from kiosk.journey import machine as j
from tests.helpers import make_config
from tests.ui.glyphs import pixels
from ui.app import LANDSCAPE, PORTRAIT
from ui.tour import Tour

HOSPITAL = "BỆNH VIỆN ĐA KHOA TỈNH BẮC NINH"
MARGIN = 40  # white pixels around each crop
LETTER_PX = 36  # the font size of the crops tesseract reads
NAME_SCREENS = ("confirm_chip", "confirm_qr", "confirm_typed", "appointment", "department")

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def tesseract():
    """`make test` installs tesseract-ocr and tesseract-ocr-vie (APT_PACKAGES): missing, the check fails, not skips."""
    assert shutil.which("tesseract"), "tesseract is not installed: run `make apt` (tesseract-ocr)"
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=60).stdout.split()
    assert "vie" in langs, "tesseract has no Vietnamese: run `make apt` (tesseract-ocr-vie)"


@pytest.fixture
def sandbox(fresh_sandbox):
    return fresh_sandbox


@pytest.fixture
def kiosk_config(sandbox, tmp_path):
    # the tour checks the same demo people in again and again: each a visit of its own (test_journey_repeat.py)
    return make_config(sandbox.base_url, kiosk={"data_dir": str(tmp_path / "data"), "idle_timeout_s": 60.0,
                                                "hospital_name": HOSPITAL, "repeat_visits": "allow"},
                       card_reader={"driver": "simulator"}, camera={"driver": "simulator"},
                       printer={"driver": "simulator"})


def words(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def crop(widget: QWidget, path, letter_px: int = LETTER_PX):
    """The widget as the window shows it, black ink on white, its letters ``letter_px`` tall, framed in white."""
    window = widget.window()
    shot = window.grab(QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())).toImage()
    gray = shot.convertToFormat(QImage.Format.Format_Grayscale8)
    # black ink on white: a pixel is ink when it stands out from the background (the most common shade)
    values = pixels(gray)[:, :, 0]
    background = np.bincount(values.ravel(), minlength=256).argmax()
    ink = np.abs(values - background) > 60
    binary = np.where(ink, 0, 255).astype(np.uint8)
    height, width = binary.shape
    gray = QImage(np.ascontiguousarray(binary).data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    scale = letter_px / max(1, widget.font().pixelSize())  # tesseract reads marks best at a moderate size
    gray = gray.scaled(round(gray.width() * scale), round(gray.height() * scale), Qt.AspectRatioMode.KeepAspectRatio,
                       Qt.TransformationMode.SmoothTransformation)
    framed = QImage(gray.width() + 2 * MARGIN, gray.height() + 2 * MARGIN, QImage.Format.Format_Grayscale8)
    framed.fill(QColor("white"))  # tesseract misses a mark that touches the image's edge
    painter = QPainter(framed)
    painter.drawImage(MARGIN, MARGIN, gray)
    painter.end()
    assert framed.save(str(path))
    return path


def readings(widget: QWidget, path):
    """What tesseract reads, as a block of text and as sparse words, at two sizes (it reads some stacked
    marks one way and not another; a mark that is not on the screen it reads in none)."""
    for letter_px in (LETTER_PX, 2 * LETTER_PX):
        image = crop(widget, path.with_name(f"{path.stem}_{letter_px}.png"), letter_px)
        for psm in ("6", "11"):
            out = subprocess.run(["tesseract", str(image), "-", "-l", "vie", "--psm", psm], capture_output=True,
                                 text=True, timeout=60)
            yield words(out.stdout)


def name_labels(window, name: str) -> list[QLabel]:
    return [lab for lab in window.current_screen().findChildren(QLabel)
            if lab.isVisibleTo(window) and name in lab.text()]


@pytest.mark.integration
@pytest.mark.parametrize("orientation,large", [("portrait", False), ("landscape", True)])
def test_names_read_back_with_every_mark(kiosk, sandbox, tmp_path, orientation, large):
    kiosk.window.resize(*(PORTRAIT if orientation == "portrait" else LANDSCAPE))
    kiosk.qtbot.wait(50)
    c = kiosk.controller
    misread: list[str] = []
    read: list[str] = []

    def check(shot: str) -> None:
        if shot not in NAME_SCREENS:
            return
        c.timer.stop()
        if c.journey.large_text != large:
            c.send(j.SetLargeText(large))
            kiosk.qtbot.wait(100)  # the layout settles
        ident = c.journey.identity
        wanted = [(kiosk.window.hospital, HOSPITAL)]
        if ident is not None and ident.full_name:
            wanted += [(lab, ident.full_name) for lab in name_labels(kiosk.window, ident.full_name)]
        for n, (widget, text) in enumerate(wanted):
            got = []
            for reading in readings(widget, tmp_path / f"{shot}_{n}.png"):
                got.append(reading)
                if words(text) in reading:
                    break
            else:
                misread.append(f"{shot}: {text!r} read as {got!r}")
            read.append(text)
        if large:
            c.send(j.SetLargeText(False))  # the tour goes on as it expects
            QApplication.processEvents()
        c._arm(force=True)

    tour = Tour(c, kiosk.window, SimulatorControls(kiosk.services, sandbox), tmp_path, on_shot=check)
    tour.run(("chip", "qr", "typed"))
    assert any("NGUYỄN" in t for t in read) and HOSPITAL in read
    assert misread == []
