"""The web boards' and the phone page's texts: ``queue.*`` keys (and the
board's own ``board.*`` sentences), in the kiosk's catalogue,
``kiosk/texts/locale/*.po``."""
from __future__ import annotations

from kiosk.texts.messages import t


def both(key: str, **values) -> str:
    """Vietnamese first, then English: for pages shown before a language is chosen."""
    return f"{t(key, 'vi', **values)} · {t(key, 'en', **values)}"


__all__ = ["both", "t"]
