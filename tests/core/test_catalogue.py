"""The texts catalogue (kiosk/texts/locale/*.po): complete in both languages,
no unused entries, the same placeholders everywhere, and the fallbacks that
keep a key from ever reaching the patient."""
from __future__ import annotations

import ast
import functools
import logging
import re
import string
import threading
from pathlib import Path

import pytest

from kiosk.texts import messages
from kiosk.texts.keys import DYNAMIC_KEYS

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("kiosk", "app", "ui", "devices", "offline_cache", "queue_web", "fhir_his", "bhxh_gateway")
OTHER_SOURCES = ("*.html", "*.js")  # the queue service's templates and scripts


def entries(lang: str) -> dict[str, str]:
    return messages.read_po_file(messages.po_path(lang))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def product_files(pattern: str):
    for package in PRODUCT:
        yield from sorted((ROOT / package).rglob(pattern))


@functools.cache
def literals_and_templates() -> tuple[set[str], set[str]]:
    """Every string literal of the product code, and every f-string written as
    ``literal{...}`` (the literal part followed by ``{}``)."""
    literals: set[str] = set()
    templates: set[str] = set()
    for path in product_files("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
            elif isinstance(node, ast.JoinedStr):
                templates.add("".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values))
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and any(
                    isinstance(side, ast.Constant) and isinstance(side.value, str) for side in (node.left, node.right)):
                templates.add("".join(side.value if isinstance(side, ast.Constant) and isinstance(side.value, str)
                                      else "{}" for side in (node.left, node.right)))
    for pattern in OTHER_SOURCES:
        for path in product_files(pattern):
            literals.update(re.findall(r"""["']([a-z_]+(?:\.[a-z0-9_]+)+)["']""", path.read_text(encoding="utf-8")))
    return literals, templates


def test_every_po_file_parses_and_has_no_duplicate_msgid():
    for lang in messages.LANGUAGES:
        text = messages.po_path(lang).read_text(encoding="utf-8")
        ids = re.findall(r'^msgid "(.*)"$', text, re.M)
        assert [i for i in ids if ids.count(i) > 1] == [], lang
        assert len(entries(lang)) == len(ids) - 1, f"{lang}.po: an entry is empty, fuzzy or unreadable"


def test_every_key_has_both_languages():
    vi, en = entries("vi"), entries("en")
    assert sorted(set(vi) - set(en)) == [], "missing in en.po"
    assert sorted(set(en) - set(vi)) == [], "missing in vi.po"


def test_placeholders_are_the_same_in_both_languages():
    vi, en = entries("vi"), entries("en")
    differ = {key: (placeholders(vi[key]), placeholders(en[key])) for key in vi
              if key in en and placeholders(vi[key]) != placeholders(en[key])}
    assert differ == {}


def test_keys_built_at_run_time_are_declared_and_exist():
    vi = entries("vi")
    _, templates = literals_and_templates()
    undeclared = sorted(tpl for tpl in templates if tpl not in DYNAMIC_KEYS and builds_a_key(tpl, vi))
    assert undeclared == [], "declare the codes of these keys in kiosk.texts.keys.DYNAMIC_KEYS"
    missing = sorted(key for template, codes in DYNAMIC_KEYS.items() for key in expand(template, codes)
                     if key not in vi)
    assert missing == []


def builds_a_key(template: str, keys) -> bool:
    """An f-string or a sum whose literal start is the start of some key
    (``f"ui.status.{name}"``), or whose literal end is the end of one (``prefix + ".title"``)."""
    if "{}" not in template:
        return False
    start, *rest = template.split("{}")
    if start:
        return bool(re.fullmatch(r"[a-z_]+\.[a-z0-9_.]*", start)) and any(key.startswith(start) for key in keys)
    return any(re.fullmatch(r"\.[a-z0-9_.]*[a-z]", part) and any(key.endswith(part) or part + "." in key for key in keys)
               for part in rest)


def expand(template: str, codes) -> list[str]:
    keys = [template]
    for group in codes:
        keys = [key.replace("{}", str(code), 1) for key in keys for code in group]
    return keys


def test_every_key_is_used_by_the_code():
    literals, _ = literals_and_templates()
    used = literals | {key for template, codes in DYNAMIC_KEYS.items() for key in expand(template, codes)}
    assert sorted(set(entries("vi")) - used) == []


# namespaces used only for texts (ui.*, speech.*, admin.*, board.* and insurance.* also name log events and settings)
TEXT_ONLY = ("error", "ticket", "queue", "coverage", "priority")


def test_every_key_the_code_names_has_a_text():
    literals, _ = literals_and_templates()
    vi = entries("vi")
    named = {lit for lit in literals if re.fullmatch(rf"({'|'.join(TEXT_ONLY)})\.[a-z0-9_]+(\.[a-z0-9_]+)*", lit)}
    assert named and sorted(named - set(vi)) == []


def test_a_missing_text_falls_back_to_vietnamese_then_the_generic_sentence(monkeypatch, caplog):
    vi, en = entries("vi"), entries("en")
    monkeypatch.setattr(messages, "_catalogue", {"vi": vi, "en": {k: v for k, v in en.items() if k != "ui.done.title"}})
    monkeypatch.setattr(messages, "_reported", set())
    with caplog.at_level(logging.ERROR, logger="kiosk.texts.messages"):
        assert messages.t("ui.done.title", "en") == vi["ui.done.title"]
        assert messages.t("ui.no.such.key", "en") == en["error.generic"]
        assert messages.t("ui.no.such.key", "vi") == vi["error.generic"]
        assert messages.t("ui.done.title", "fr") == vi["ui.done.title"]
        assert messages.t("ui.no.such.key", "fr", n=1) == vi["error.generic"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "ui.done.title" in logged and "ui.no.such.key" in logged
    assert all(r.levelno == logging.ERROR for r in caplog.records)


def test_the_catalogue_is_loaded_once_even_by_threads_at_the_same_time(monkeypatch):
    reads = []
    real = messages.read_po_file
    monkeypatch.setattr(messages, "_catalogue", None)
    monkeypatch.setattr(messages, "read_po_file", lambda path: reads.append(path) or real(path))
    barrier = threading.Barrier(4)

    def look():
        barrier.wait()
        messages.t("error.generic", "en")

    threads = [threading.Thread(target=look) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(reads) == len(messages.LANGUAGES)


def test_the_po_files_are_package_data():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^"kiosk\.texts" = \["locale/\*\.po"\]', pyproject, re.M)


@pytest.mark.parametrize("key, lang, values, text", [
    ("ui.done.go_to", "vi", {"room": "P.101"}, "Mời đến P.101"),
    ("ticket.people_ahead", "en", {"n": 3}, "3 people ahead of you"),
    ("error.generic", "vi", {}, "Đã có lỗi xảy ra. Vui lòng thử lại hoặc đến quầy tiếp đón."),
])
def test_texts_read_as_before(key, lang, values, text):
    assert messages.t(key, lang, **values) == text


@pytest.mark.parametrize("content", [None, "this is not a PO file\n", 'msgid "ui.done.title"\n'])
def test_an_unreadable_translation_is_logged_and_shown_in_vietnamese(monkeypatch, tmp_path, caplog, content):
    broken = tmp_path / "en.po"  # missing, or not PO
    if content is not None:
        broken.write_text(content, encoding="utf-8")
    real = messages.po_path
    monkeypatch.setattr(messages, "po_path", lambda lang: broken if lang == "en" else real(lang))
    monkeypatch.setattr(messages, "_catalogue", None)
    with caplog.at_level(logging.ERROR, logger="kiosk.texts.messages"):
        assert messages.t("ui.done.title", "en") == entries("vi")["ui.done.title"]
    assert "en.po" in caplog.text
