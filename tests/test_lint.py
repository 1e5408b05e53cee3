"""No undefined names, unused imports or dead f-strings anywhere (ruff's
pyflakes rules): the cheapest guard against a half-finished edit."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pyflakes_rules_pass_on_the_whole_tree():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "F", "--no-cache",
                          "app", "kiosk", "fhir_his", "bhxh_gateway", "devices", "offline_cache", "ui", "queue_web",
                          "benchmarks", "tests", "sandbox_bhxh"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
