"""Message catalogue: every sentence a patient (or a staff member) reads or
hears, in Vietnamese and English.

The texts are data, not code: one gettext PO file per language,
``kiosk/texts/locale/vi.po`` and ``en.po`` (msgid = the key the code uses,
e.g. ``error.generic``; msgstr = the text, with ``{name}`` placeholders filled
in by ``str.format``). PO is what translators and their tools (Weblate, Poedit,
Lokalize, Transifex, Debian's tooling) work with. The files are read with
Babel's PO reader (the kept library for PO in Python, packaged by Debian as
python3-babel) rather than compiled to ``.mo`` for the standard library's
``gettext``: the PO files shipped are then the files loaded, with no build step
that could leave a stale ``.mo`` behind, and a translator's edit takes effect at
the next start.

Keys are grouped by prefix: ``error.*`` for typed errors
(``KioskError.patient_message_key``), ``ui.*`` the screens, ``speech.*`` the
spoken guidance, ``ticket.*`` the printed ticket, ``queue.*``/``board.*`` the
calling boards and phone page, ``admin.*`` the admin screen.

The catalogue is loaded once, on the first lookup (thread-safe), and is never
changed afterwards. Vietnamese is the source language and the fallback: a text
missing in the language asked for is shown in Vietnamese; a key missing
altogether shows the generic sentence (``error.generic``). The patient never
sees a key; each miss is logged once as an error naming the key (keys carry no
personal data).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

LANGUAGES = ("vi", "en")
SOURCE_LANGUAGE = "vi"
GENERIC_KEY = "error.generic"
LOCALE_DIR = Path(__file__).with_name("locale")

log = logging.getLogger(__name__)

_lock = threading.Lock()
_catalogue: dict[str, dict[str, str]] | None = None  # language -> key -> text
_reported: set[tuple[str, str]] = set()


def po_path(lang: str) -> Path:
    return LOCALE_DIR / f"{lang}.po"


def read_po_file(path: Path) -> dict[str, str]:
    """The translated, non-fuzzy entries of one PO file (key -> text)."""
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        catalog = read_po(f, ignore_obsolete=True, abort_invalid=True)
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def catalogue() -> Mapping[str, Mapping[str, str]]:
    """Every language's texts (language -> key -> text), read on first use."""
    global _catalogue
    loaded = _catalogue
    if loaded is None:
        with _lock:
            loaded = _catalogue
            if loaded is None:
                loaded = {lang: _read_language(lang) for lang in LANGUAGES}
                _catalogue = loaded
    return loaded


def _read_language(lang: str) -> dict[str, str]:
    """One language's texts; an unreadable translation is logged and shown in
    Vietnamese instead (the source language itself must read: it is the fallback)."""
    if lang == SOURCE_LANGUAGE:
        return read_po_file(po_path(lang))
    try:
        return read_po_file(po_path(lang))
    except Exception as exc:  # OSError, babel's PoFileError: the kiosk keeps working in Vietnamese
        log.error("message catalogue: cannot read %s.po (%s); its texts are shown in Vietnamese",
                  lang, type(exc).__name__)
        return {}


def _report(kind: str, key: str) -> None:
    with _lock:
        if (kind, key) in _reported:
            return
        _reported.add((kind, key))
    log.error("message catalogue: %s %s", kind, key)


def has(key: str) -> bool:
    """Whether ``key`` is in the catalogue (for texts that may come from elsewhere)."""
    return key in catalogue()[SOURCE_LANGUAGE]


def lookup(key: str, lang: str = SOURCE_LANGUAGE) -> str:
    """The unformatted text for ``key`` in ``lang``, with the fallbacks above."""
    texts = catalogue()
    text = texts.get(lang, {}).get(key)
    if text is not None:
        return text
    source = texts[SOURCE_LANGUAGE]
    text = source.get(key)
    if text is not None:
        _report(f"no {lang!r} text for", key)
        return text
    _report("unknown key", key)
    return texts.get(lang, {}).get(GENERIC_KEY) or source.get(GENERIC_KEY) or ""


def t(key: str, lang: str = SOURCE_LANGUAGE, **values) -> str:
    """Look up ``key`` in ``lang`` (falling back to Vietnamese, then to the generic sentence)."""
    text = lookup(key, lang)
    return text.format(**values) if values else text


class _Messages(Mapping[str, Mapping[str, str]]):
    """A read-only view of the catalogue by key: ``MESSAGES[key][lang]``."""

    def __getitem__(self, key: str) -> Mapping[str, str]:
        texts = catalogue()
        if key not in texts[SOURCE_LANGUAGE]:
            raise KeyError(key)
        return {lang: texts[lang][key] for lang in LANGUAGES if key in texts[lang]}

    def __iter__(self) -> Iterator[str]:
        return iter(catalogue()[SOURCE_LANGUAGE])

    def __len__(self) -> int:
        return len(catalogue()[SOURCE_LANGUAGE])


MESSAGES: Mapping[str, Mapping[str, str]] = _Messages()
