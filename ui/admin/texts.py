"""The admin screen's lookup of its texts (``admin.*`` keys, in ``kiosk/texts/locale/*.po``)."""
from __future__ import annotations

from kiosk.texts import messages


def tr(key: str, lang: str, **values) -> str:
    return messages.t(key, lang, **values)
