"""The ticket's words for codes: priority groups and BHYT statuses.

Every sentence printed on a ticket or shown when printing fails (``ticket.*``,
``priority.*``, ``insurance.*``, ``error.printer*``) is in the kiosk's
catalogue, ``kiosk/texts/locale/*.po``, so that translators find them in one
place and nothing is written inline in the layout.
"""
from __future__ import annotations

from kiosk.domain import Priority
from kiosk.texts import messages
from kiosk.texts.messages import t


def priority_text(priority: Priority, lang: str) -> str:
    return t(f"priority.{priority.value}", lang)


def insurance_text(status: str, lang: str) -> str:
    """A known status code in words; anything else (a text the HIS gave) as is."""
    key = f"insurance.{status}"
    return t(key, lang) if messages.has(key) else status
