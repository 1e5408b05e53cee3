"""Every config value has a bound, and `kiosk config check` names the key for
each: huge numbers, long texts, deep nesting, big patterns — never "unexpected
error", never more than a short excerpt of the value echoed back."""
from __future__ import annotations

import dataclasses
import typing

import pytest

from kiosk.config.loader import MAX_PATTERN, MAX_TEXT, Config, config_problems
from tests.robustness.cli import assert_no_traceback, kiosk

SECTIONS = {f.name: typing.get_type_hints(Config)[f.name] for f in dataclasses.fields(Config)
            if not f.metadata.get("internal")}
SETTINGS = [(section, f.name, typing.get_type_hints(cls)[f.name], f)
            for section, cls in SECTIONS.items() for f in dataclasses.fields(cls)]
NUMBERS = [(s, k) for s, k, tp, _ in SETTINGS if tp in (int, float)]
TEXTS = [(s, k) for s, k, tp, _ in SETTINGS if tp is str]


def problems_of(raw: dict) -> list[str]:
    return config_problems(raw)[1]


@pytest.mark.parametrize("section, key", NUMBERS, ids=[f"{s}.{k}" for s, k in NUMBERS])
@pytest.mark.parametrize("value", [10 ** 30, 10 ** 400, -10 ** 30, 1e300])
def test_every_number_has_an_upper_bound(section, key, value):
    found = problems_of({section: {key: value}})
    assert len(found) == 1 and found[0].startswith(f"{section}.{key}: expected"), found
    assert len(found[0]) < 400, found[0]  # the value is not written out in full


@pytest.mark.parametrize("section, key", TEXTS, ids=[f"{s}.{k}" for s, k in TEXTS])
def test_every_text_has_a_length_limit_and_is_never_echoed_in_full(section, key):
    found = problems_of({section: {key: "x" * 5_000_000}})
    limit = MAX_PATTERN if key.endswith("_pattern") else MAX_TEXT
    assert found and found[0].startswith(f"{section}.{key}: expected at most {limit:,} characters"), found
    assert all(len(p) < 400 for p in found), [len(p) for p in found]


def test_lists_and_tables_are_bounded():
    assert problems_of({"board": {"rooms": ["P101"] * 100_000}})[0].startswith("board.rooms: expected at most")
    assert problems_of({"board": {"rooms": [["P101"]]}})[0].startswith("board.rooms: expected plain values")
    assert problems_of({"his": {"capabilities": {"x": {"y": 1}}}})[0].startswith("his.capabilities: expected plain")


@pytest.mark.integration
def test_the_command_names_the_key_for_hostile_files(tmp_path):
    cases = {
        "huge_int": ("[his]\nread_timeout_s = 1" + "0" * 400 + "\n", "his.read_timeout_s: expected"),
        "huge_base": ("[kiosk]\noffline_number_base = 1" + "0" * 30 + "\n", "kiosk.offline_number_base: expected"),
        "deep": ("a = " + "[" * 1000 + "]" * 1000 + "\n", "nested too deeply"),
        "long_value": ('[kiosk]\nhospital_name = "' + "x" * 5_000_000 + '"\n', "kiosk.hospital_name: expected at most"),
        "big_pattern": ('[camera]\nappointment_pattern = "(?P<code>' + "a?" * 2_500_000 + ')"\n',
                        "camera.appointment_pattern: expected at most"),
    }
    for name, (text, expected) in cases.items():
        cfg = tmp_path / f"{name}.toml"
        cfg.write_text(text, encoding="utf-8")
        out = kiosk("config", "check", str(cfg), timeout=60)
        assert_no_traceback(out)
        assert out.returncode == 1 and "unexpected error" not in out.stderr, (name, out.stderr[-500:])
        assert expected in out.stderr, (name, out.stderr[-500:])
        assert len(out.stderr) < 2_000, (name, len(out.stderr))
