"""Admin screen look: plainer than the patient screens, still touch-sized."""
from __future__ import annotations

from ui.style import BLUE, BLUE_DARK, FONT_FAMILY, GREY_BG, INK, RED

STATUS_COLOURS = {"OK": "#0A6B2E", "WARN": "#8A5A00", "FAIL": RED}

STYLESHEET = f"""
QWidget#admin {{ background: white; color: {INK}; font-family: "{FONT_FAMILY}"; font-size: 22px; }}
QLabel {{ font-size: 22px; }}
QWidget#adminHeader {{ background: {BLUE_DARK}; }}
QLabel#adminTitle {{ color: white; font-size: 28px; font-weight: bold; padding: 10px 18px; }}
QLabel[role="admin-title"] {{ font-size: 34px; font-weight: bold; color: {BLUE_DARK}; }}
QLabel[role="pin-dots"] {{ font-size: 48px; letter-spacing: 12px; background: {GREY_BG};
    border: 3px solid {BLUE}; border-radius: 12px; padding: 8px 24px; min-width: 320px; }}
QLabel[role="message"] {{ font-size: 22px; color: {RED}; font-weight: bold; }}
QLabel[role="message"][ok="true"] {{ color: #0A6B2E; }}
QLabel[role="summary"] {{ font-size: 24px; font-weight: bold; }}
QPushButton {{ min-height: 64px; min-width: 120px; border-radius: 10px; font-size: 22px; font-weight: bold;
    padding: 4px 20px; background: {BLUE}; color: white; border: none; }}
QPushButton:pressed {{ background: {BLUE_DARK}; }}
QPushButton:disabled {{ background: #9aa5b1; color: #eef1f5; }}
QPushButton[kind="key"] {{ background: {GREY_BG}; color: {INK}; border: 3px solid #7d8896; font-size: 34px;
    min-width: 110px; min-height: 70px; }}
QPushButton[kind="key-ok"] {{ font-size: 30px; min-width: 110px; min-height: 70px; }}
QPushButton[kind="secondary"] {{ background: white; color: {BLUE_DARK}; border: 3px solid {BLUE}; }}
QPushButton[kind="danger"] {{ background: {RED}; color: white; }}
QTabBar::tab {{ min-height: 56px; min-width: 170px; font-size: 22px; padding: 4px 16px; }}
QTabBar::tab:selected {{ background: {GREY_BG}; font-weight: bold; }}
QComboBox, QLineEdit {{ min-height: 56px; font-size: 22px; padding: 2px 10px; }}
QTableWidget, QListWidget {{ font-size: 20px; }}
QHeaderView::section {{ font-size: 18px; font-weight: bold; padding: 4px; background: {GREY_BG}; }}
"""
