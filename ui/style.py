"""Look of the kiosk: large type, high contrast, big touch targets.

All sizes derive from one unit ``u`` = shorter window side / 1080, so the same
screens fit portrait 1080×1920, landscape 1920×1080 and a small demo window.
Buttons are at least 15 mm tall on the actual screen (its physical DPI).

``large=True`` is the patient's large-text mode (one touch in the header):
every font 1.5× and a high-contrast palette — white and yellow on black, thick
borders — for people who cannot read small or pale print.
"""
from __future__ import annotations

import math

from PySide6.QtGui import QGuiApplication

INK = "#101418"          # body text on white: contrast ≈ 18:1
BLUE = "#0B4F9C"         # primary buttons, header (white text ≈ 8:1)
BLUE_DARK = "#083A73"
GREEN = "#0A6B2E"        # the queue number
RED = "#A4001D"
AMBER_BG, AMBER_INK = "#FFF1C2", "#4A3500"
GREY_BG = "#EEF1F5"
FONT_FAMILY = "DejaVu Sans"

MIN_TARGET_MM = 15.0
LARGE_TEXT = 1.5  # how much bigger every text is in large-text mode
# A capital with two marks (Ễ, Ầ, Ắ, Ỉ…) reaches about 0.14 em above DejaVu's ascent,
# the top of the line box Qt lays a label's text in: a label as tall as its text
# (its size hint) would cut the upper mark off (NGUYỄN read "NGUYÊN"). Every label
# role takes that much padding above its text.
MARK_ROOM = 0.16

# name: (normal, high contrast). High contrast: white ≈ 21:1 and yellow ≈ 19:1 on black.
PALETTE = {
    "bg": ("white", "#000000"), "ink": (INK, "#FFFFFF"), "title": (BLUE_DARK, "#FFE500"),
    "header": (BLUE, "#000000"), "header_ink": ("white", "#FFE500"), "soft": ("#333a44", "#FFFFFF"),
    "label": ("#39424e", "#FFFFFF"), "primary": (BLUE, "#FFE500"), "primary_ink": ("white", "#000000"),
    "primary_down": (BLUE_DARK, "#C8B400"), "secondary": ("white", "#000000"), "secondary_ink": (BLUE_DARK, "#FFFFFF"),
    "secondary_edge": (BLUE, "#FFFFFF"), "panel": (GREY_BG, "#000000"), "panel_edge": ("#7d8896", "#FFFFFF"),
    "pressed": ("#d6dde6", "#333333"), "notice_bg": (AMBER_BG, "#000000"), "notice_ink": (AMBER_INK, "#FFE500"),
    "notice_edge": ("#C98A00", "#FFE500"), "error": (RED, "#FF8A8A"), "number": (GREEN, "#7CFF7C"),
    "status": (GREY_BG, "#000000"), "disabled": ("#9aa5b1", "#555555"), "checked": ("#D9F2E1", "#004D1A"),
}


def unit_for(width: int, height: int) -> float:
    return max(0.4, min(width, height) / 1080.0)


def min_target_px(u: float, design_px: float = 120) -> int:
    """Smallest touch target in pixels: 15 mm on this screen, and never tiny."""
    screen = QGuiApplication.primaryScreen()
    dpi = screen.physicalDotsPerInch() if screen else 96.0
    return int(max(MIN_TARGET_MM * dpi / 25.4, design_px * u))


def stylesheet(u: float, large: bool = False) -> str:
    k = 1 if large else 0
    c = {name: pair[k] for name, pair in PALETTE.items()}
    scale = LARGE_TEXT if large else 1.0
    edge = 2 if large else 1  # borders twice as thick in high contrast

    def px(v: float) -> str:
        return f"{max(1, round(v * u))}px"

    def fs(v: float) -> str:  # a font size: 1.5× in large-text mode
        return f"{max(1, round(v * u * scale))}px"

    def room(v: float) -> str:  # the room above a line of font size v for a capital's stacked marks
        return f"{math.ceil(MARK_ROOM * max(1, round(v * u * scale)))}px"

    target = min_target_px(u)
    return f"""
    QWidget#kiosk {{ background: {c['bg']}; color: {c['ink']}; font-family: "{FONT_FAMILY}"; font-size: {fs(38)}; }}
    QWidget#header {{ background: {c['header']}; border-bottom: {px(3 * k)} solid {c['header_ink']}; }}
    QWidget#speechbar {{ background: {c['panel']}; border-bottom: {px(3)} solid {c['panel_edge']}; }}
    QLabel#hospital {{ color: {c['header_ink']}; font-size: {fs(34)}; font-weight: bold; padding-top: {room(34)}; }}
    QLabel {{ color: {c['ink']}; }}
    QScrollArea#scroller, QWidget#body {{ background: transparent; }}
    QScrollBar:vertical {{ width: {px(28)}; background: {c['panel']}; margin: 0;
        border: {px(2 * k)} solid {c['panel_edge']}; border-radius: {px(12)}; }}
    QScrollBar::handle:vertical {{ background: {c['title'] if large else c['panel_edge']}; min-height: {px(80)};
        border-radius: {px(10)}; margin: {px(3 * k)}; }}
    QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0; border: none; background: none; }}
    QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical {{ background: none; }}
    QLabel[role="title"] {{ font-size: {fs(64)}; font-weight: bold; color: {c['title']}; padding-top: {room(64)}; }}
    QLabel[role="body"] {{ font-size: {fs(42)}; padding-top: {room(42)}; }}
    QLabel[role="hint"] {{ font-size: {fs(36)}; color: {c['soft']}; padding-top: {room(36)}; }}
    QLabel[role="volume"] {{ font-size: {fs(30)}; font-weight: bold; padding-top: {room(30)}; }}
    QLabel[role="notice"] {{ font-size: {fs(36)}; background: {c['notice_bg']}; color: {c['notice_ink']};
        border: {px(3 * edge)} solid {c['notice_edge']}; border-radius: {px(16)}; padding: {px(20)}; }}
    QLabel[role="notice"][compact="true"] {{ padding: {px(6)} {px(12)}; padding-top: {room(36)}; }}
    QLabel[role="speech-problem"] {{ font-size: {fs(28)}; font-weight: bold; color: {c['error']};
        padding-top: {room(28)}; }}
    QLabel[role="more"] {{ font-size: {fs(32)}; font-weight: bold; background: {c['notice_bg']};
        color: {c['notice_ink']}; border-top: {px(3 * edge)} solid {c['notice_edge']}; padding: {px(6)};
        padding-top: {room(32)}; }}
    QLabel[role="error"] {{ font-size: {fs(46)}; color: {c['error']}; font-weight: bold; padding-top: {room(46)}; }}
    QLabel[role="field-label"] {{ font-size: {fs(32)}; color: {c['label']}; padding-top: {room(32)}; }}
    QLabel[role="field-value"] {{ font-size: {fs(48)}; font-weight: bold; padding-top: {room(48)}; }}
    QFrame[role="who"] {{ background: {c['panel']}; border: {px(3 * edge)} solid {c['panel_edge']};
        border-radius: {px(16)}; }}
    QLabel[role="who-text"] {{ font-size: {fs(36)}; font-weight: bold; background: transparent; border: none; padding-top: {room(36)}; }}
    QLabel[role="coverage"] {{ font-size: {fs(34)}; font-weight: bold; background: transparent; border: none; padding-top: {room(34)}; }}
    QLabel[role="coverage"][state="ok"] {{ color: {c['number']}; }}
    QLabel[role="coverage"][state="warn"] {{ color: {c['notice_ink']}; }}
    QLabel[role="coverage"][state="bad"] {{ color: {c['error']}; }}
    QLabel[role="big-number"] {{ font-size: {px(260)}; font-weight: bold; color: {c['number']}; }}
    QLabel[role="big-number-long"] {{ font-size: {px(160)}; font-weight: bold; color: {c['number']}; }}
    QLabel[role="room"] {{ font-size: {fs(56)}; font-weight: bold; padding-top: {room(56)}; }}
    QLabel[role="digits"] {{ font-family: "DejaVu Sans Mono"; font-size: {fs(72)}; font-weight: bold;
        color: {c['ink']}; background: {c['panel']}; border: {px(4 * edge)} solid {c['secondary_edge']};
        border-radius: {px(16)}; padding: {px(14)}; }}
    QLabel[role="photo"] {{ background: {c['panel']}; border: {px(3)} solid #9aa5b1; }}
    QPushButton {{ min-height: {target}px; border-radius: {px(22)}; font-size: {fs(44)}; font-weight: bold;
        padding: {px(10)} {px(30)}; }}
    QPushButton[kind="primary"] {{ background: {c['primary']}; color: {c['primary_ink']}; border: none; }}
    QPushButton[kind="primary"]:pressed {{ background: {c['primary_down']}; }}
    QPushButton[kind="primary"]:disabled {{ background: {c['disabled']}; color: {c['panel']}; }}
    QPushButton[kind="secondary"] {{ background: {c['secondary']}; color: {c['secondary_ink']};
        border: {px(5 * edge)} solid {c['secondary_edge']}; }}
    QPushButton[kind="secondary"]:pressed {{ background: {c['pressed']}; }}
    QPushButton[kind="choice"], QPushButton[kind="toggle"] {{ background: {c['panel']}; color: {c['ink']};
        border: {px(4 * edge)} solid {c['panel_edge']}; text-align: left; padding: {px(18)} {px(30)};
        font-size: {fs(40)}; }}
    QPushButton[kind="toggle"] {{ text-align: center; font-size: {fs(32)}; padding: {px(8)} {px(12)}; }}
    QPushButton[kind="choice"][compact="true"] {{ padding: {px(1)} {px(10)}; min-height: {min_target_px(u, 84)}px; }}
    QPushButton[kind="toggle"]:checked {{ background: {c['checked']}; border-color: {c['number']}; }}
    QLabel[role="choice-name"] {{ font-size: {fs(42)}; font-weight: bold; background: transparent; padding-top: {room(42)}; }}
    QLabel[role="choice-detail"] {{ font-size: {fs(32)}; color: {c['soft']}; background: transparent; padding-top: {room(32)}; }}
    QPushButton[kind="choice"]:pressed {{ background: {c['pressed']}; }}
    QPushButton[kind="key"] {{ background: {c['panel']}; color: {c['ink']}; border: {px(4 * edge)} solid {c['panel_edge']};
        font-size: {fs(60)}; min-width: {target}px; min-height: {min_target_px(u, 104)}px; }}
    QPushButton[kind="key-text"] {{ background: {c['panel']}; color: {c['ink']};
        border: {px(4 * edge)} solid {c['panel_edge']};
        font-size: {fs(36)}; padding: {px(6)}; min-height: {min_target_px(u, 104)}px; }}
    QPushButton[kind="key"][compact="true"] {{ font-size: {fs(40)}; padding: {px(2)}; min-height: {min_target_px(u, 84)}px; }}
    QPushButton[kind="key-text"][compact="true"] {{ font-size: {fs(28)}; padding: {px(2)}; min-height: {min_target_px(u, 84)}px; }}
    QPushButton[kind="key"]:pressed, QPushButton[kind="key-text"]:pressed {{ background: {c['pressed']}; }}
    QPushButton[kind="header"] {{ min-height: {min_target_px(u, 84)}px; background: {c['secondary']};
        color: {c['secondary_ink']}; border: {px(3 * k)} solid {c['header_ink']};
        font-size: {fs(30)}; padding: {px(6)} {px(20)}; }}
    QPushButton[kind="header"]:checked {{ background: {c['header_ink']}; color: {c['header']}; }}
    QPushButton[kind="bar"] {{ min-height: {min_target_px(u, 84)}px; background: {c['secondary']};
        color: {c['secondary_ink']}; border: {px(4 * edge)} solid {c['secondary_edge']};
        font-size: {fs(30)}; padding: {px(6)} {px(16)}; }}
    QPushButton[kind="bar"]:pressed {{ background: {c['pressed']}; }}
    QWidget#statusbar {{ background: {c['status']}; }}
    QLabel[role="status"] {{ font-size: {fs(24)}; color: {c['ink']}; padding: {px(4)} {px(6)}; padding-top: {room(24)}; }}
    QLabel[role="status"][state="bad"] {{ color: {c['error']}; font-weight: bold; }}
    QLabel[role="status"][state="warn"] {{ color: {c['notice_ink']}; font-weight: bold; }}
    """
