"""The commented sample config covers every setting and passes `kiosk config check`."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
import tomllib
import typing
from pathlib import Path

from kiosk.config.loader import Config

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "kiosk.sample.toml"


def test_sample_names_every_section_and_key_of_the_config():
    raw = tomllib.loads(SAMPLE.read_text(encoding="utf-8"))
    hints = typing.get_type_hints(Config)
    missing = []
    for section in dataclasses.fields(Config):
        if section.metadata.get("internal"):
            continue
        for key in dataclasses.fields(hints[section.name]):
            if key.name not in raw.get(section.name, {}):
                missing.append(f"{section.name}.{key.name}")
    assert missing == []


def test_kiosk_config_check_accepts_the_sample():
    out = subprocess.run([sys.executable, "-m", "app", "config", "check", str(SAMPLE)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "OK (kiosk KIOSK-01" in out.stdout


def test_sample_documents_the_search_order():
    text = SAMPLE.read_text(encoding="utf-8")
    for place in ("--config FILE", "KIOSK_CONFIG", "~/.config/kiosk/kiosk.toml", "/etc/kiosk/kiosk.toml"):
        assert place in text
