"""The voice names buttons by the labels the screens show (kiosk.texts.button_labels):
every speech text that names a button gets it filled in, in both languages."""
from __future__ import annotations

import re

import pytest

from kiosk.journey import spoken  # noqa: F401 - registers the speech texts
from kiosk.texts.button_labels import SAID, button_names, said_label
from kiosk.texts.messages import MESSAGES


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_named_button_is_filled_in_with_its_label(lang):
    named = {key: MESSAGES[key][lang] for key in MESSAGES if key.startswith("speech.") and "_button}" in
             MESSAGES[key][lang]}
    assert len(named) >= 8  # welcome, keypads, confirm, appointment, priority, insurance, intro
    for key in named:
        said = spoken.t(key, lang, who="", message="", n=3, time="", department="", room="", choices="")
        assert not re.search(r"\{\w+_button\}", said), key
        used = set(re.findall(r"\{(\w+_button)\}", named[key]))
        assert used <= set(SAID), (key, used - set(SAID))
        for name in used:
            assert button_names(lang)[name] in said


def test_labels_are_said_without_the_symbol_drawn_before_them():
    assert said_label("ui.a11y.repeat", "vi") == "Nghe lại" and said_label("ui.a11y.stop", "en") == "Stop"
    assert spoken.t("speech.welcome", "en").count("Type your ID number") == 1
