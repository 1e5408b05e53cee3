"""The buttons the kiosk's voice names ("touch Continue"), in the core so
that the screen and the voice always use the same words: the screens show the
``ui.*`` labels below (texts in ``kiosk/texts/locale``) and the spoken guidance
(``kiosk/journey/spoken.py``) says them, through ``{..._button}`` placeholders.
"""
from __future__ import annotations

from kiosk.texts.messages import t

# placeholder in a speech text -> the button it names
SAID = {"type_id_button": "ui.welcome.type_id", "patient_code_button": "ui.welcome.patient_code",
        "continue_button": "ui.keypad.ok", "yes_button": "ui.confirm.yes", "not_me_button": "ui.confirm.no",
        "check_in_button": "ui.appointment.confirm", "normal_queue_button": "ui.priority.none",
        "finish_button": "ui.insurance.finish", "fee_button": "ui.insurance.accept",
        "desk_button": "ui.insurance.desk", "repeat_button": "ui.a11y.repeat", "stop_button": "ui.a11y.stop"}
SYMBOLS = "↻■♪ "  # drawn before some labels; not said


def said_label(key: str, lang: str) -> str:
    """A button's label as the voice says it (without the symbol drawn before it)."""
    return t(key, lang).lstrip(SYMBOLS)


def button_names(lang: str) -> dict[str, str]:
    """The values of every ``{..._button}`` placeholder in ``lang``."""
    return {name: said_label(key, lang) for name, key in SAID.items()}
