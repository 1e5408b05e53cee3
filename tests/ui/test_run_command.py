"""`kiosk run` end to end: a real process on the sandbox HIS with simulated
devices (offscreen), structured logs, and a clean stop on SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

pytestmark = pytest.mark.integration


def test_kiosk_run_starts_logs_json_and_stops_cleanly_on_sigterm(sandbox, tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f"""
[kiosk]
id = "KIOSK-T1"
data_dir = "{tmp_path / 'data'}"
[his]
base_url = "{sandbox.base_url}"
[card_reader]
driver = "simulator"
[camera]
driver = "simulator"
[printer]
driver = "simulator"
[logging]
format = "json"
""", encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "app", "run", "--config", str(cfg)], env=env,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("offline.started" in line for line in lines):
            assert proc.poll() is None, "".join(lines[-5:])
            assert time.monotonic() < deadline, "no start-up log line"
            time.sleep(0.1)
        time.sleep(0.5)
        assert proc.poll() is None  # still running: the window is up
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        reader.join(timeout=5)
    assert code == 0
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records and all(r["kiosk"] == "KIOSK-T1" for r in records)
    assert any(r.get("event") == "ui.stopped" for r in records)
