"""The screens' lookup of their texts (``ui.*`` keys, ``tr(key, lang)``).

The texts themselves are in the catalogue, ``kiosk/texts/locale/*.po``
(see ``kiosk.texts.messages``), with every other text the kiosk shows.
"""
from __future__ import annotations

from kiosk.texts import messages


def tr(key: str, lang: str, **values) -> str:
    """The text for ``key`` in ``lang`` (the catalogue's fallback rules apply)."""
    return messages.t(key, lang, **values)
