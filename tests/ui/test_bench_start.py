"""`make bench`'s kiosk start-up child runs `kiosk run`'s path (offscreen): it
must keep working as the code changes, and stop cleanly — a smoke test, no
timing asserted (the timing lives in BENCHMARKS.md)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def test_the_start_up_benchmark_reaches_the_welcome_screen_and_the_services(his_sandbox, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KIOSK_BENCH_HIS=his_sandbox.base_url,
               KIOSK_BENCH_DATA=str(tmp_path))
    env.pop("KIOSK_CONFIG", None)
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_ui", "start"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert lines[0] == "ready" and any(line.startswith("services ") for line in lines[1:])
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
