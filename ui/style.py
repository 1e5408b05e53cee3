"""Look of the kiosk: large type, high contrast, big touch targets.

All sizes derive from one unit ``u`` = shorter window side / 1080, so the same
screens fit portrait 1080×1920, landscape 1920×1080 and a small demo window.
Buttons are at least 15 mm tall on the actual screen (its physical DPI).
"""
from __future__ import annotations

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


def unit_for(width: int, height: int) -> float:
    return max(0.4, min(width, height) / 1080.0)


def min_target_px(u: float, design_px: float = 120) -> int:
    """Smallest touch target in pixels: 15 mm on this screen, and never tiny."""
    screen = QGuiApplication.primaryScreen()
    dpi = screen.physicalDotsPerInch() if screen else 96.0
    return int(max(MIN_TARGET_MM * dpi / 25.4, design_px * u))


def stylesheet(u: float) -> str:
    def px(v: float) -> str:
        return f"{max(1, round(v * u))}px"

    target = min_target_px(u)
    return f"""
    QWidget#kiosk {{ background: white; color: {INK}; font-family: "{FONT_FAMILY}"; font-size: {px(38)}; }}
    QWidget#header {{ background: {BLUE}; }}
    QLabel#hospital {{ color: white; font-size: {px(34)}; font-weight: bold; }}
    QLabel {{ color: {INK}; }}
    QLabel[role="title"] {{ font-size: {px(64)}; font-weight: bold; color: {BLUE_DARK}; }}
    QLabel[role="body"] {{ font-size: {px(42)}; }}
    QLabel[role="hint"] {{ font-size: {px(36)}; color: #333a44; }}
    QLabel[role="notice"] {{ font-size: {px(36)}; background: {AMBER_BG}; color: {AMBER_INK};
        border: {px(3)} solid #C98A00; border-radius: {px(16)}; padding: {px(20)}; }}
    QLabel[role="error"] {{ font-size: {px(46)}; color: {RED}; font-weight: bold; }}
    QLabel[role="field-label"] {{ font-size: {px(32)}; color: #39424e; }}
    QLabel[role="field-value"] {{ font-size: {px(48)}; font-weight: bold; }}
    QLabel[role="big-number"] {{ font-size: {px(260)}; font-weight: bold; color: {GREEN}; }}
    QLabel[role="big-number-long"] {{ font-size: {px(160)}; font-weight: bold; color: {GREEN}; }}
    QLabel[role="room"] {{ font-size: {px(56)}; font-weight: bold; }}
    QLabel[role="digits"] {{ font-family: "DejaVu Sans Mono"; font-size: {px(72)}; min-width: {px(760)}; font-weight: bold;
        background: {GREY_BG}; border: {px(4)} solid {BLUE}; border-radius: {px(16)}; padding: {px(14)}; }}
    QLabel[role="photo"] {{ background: {GREY_BG}; border: {px(3)} solid #9aa5b1; }}
    QPushButton {{ min-height: {target}px; border-radius: {px(22)}; font-size: {px(44)}; font-weight: bold;
        padding: {px(10)} {px(36)}; }}
    QPushButton[kind="primary"] {{ background: {BLUE}; color: white; border: none; }}
    QPushButton[kind="primary"]:pressed {{ background: {BLUE_DARK}; }}
    QPushButton[kind="primary"]:disabled {{ background: #9aa5b1; color: #eef1f5; }}
    QPushButton[kind="secondary"] {{ background: white; color: {BLUE_DARK}; border: {px(5)} solid {BLUE}; }}
    QPushButton[kind="secondary"]:pressed {{ background: {GREY_BG}; }}
    QPushButton[kind="choice"] {{ background: {GREY_BG}; color: {INK}; border: {px(4)} solid #7d8896;
        text-align: left; padding: {px(18)} {px(30)}; font-size: {px(40)}; }}
    QLabel[role="choice-name"] {{ font-size: {px(42)}; font-weight: bold; background: transparent; }}
    QLabel[role="choice-detail"] {{ font-size: {px(32)}; color: #2c3540; background: transparent; }}
    QPushButton[kind="choice"]:pressed {{ background: #d6dde6; }}
    QPushButton[kind="key"] {{ background: {GREY_BG}; color: {INK}; border: {px(4)} solid #7d8896;
        font-size: {px(60)}; min-width: {target}px; min-height: {min_target_px(u, 104)}px; }}
    QPushButton[kind="key-text"] {{ background: {GREY_BG}; color: {INK}; border: {px(4)} solid #7d8896;
        font-size: {px(40)}; padding: {px(6)}; min-height: {min_target_px(u, 104)}px; }}
    QPushButton[kind="key"]:pressed, QPushButton[kind="key-text"]:pressed {{ background: #d6dde6; }}
    QPushButton[kind="language"] {{ min-height: {min_target_px(u, 84)}px; background: white; color: {BLUE_DARK}; border: none;
        font-size: {px(34)}; padding: {px(6)} {px(26)}; }}
    QWidget#statusbar {{ background: {GREY_BG}; }}
    QLabel[role="status"] {{ font-size: {px(24)}; color: {INK}; padding: {px(4)} {px(6)}; }}
    QLabel[role="status"][state="bad"] {{ color: {RED}; font-weight: bold; }}
    QLabel[role="status"][state="warn"] {{ color: {AMBER_INK}; font-weight: bold; }}
    """
