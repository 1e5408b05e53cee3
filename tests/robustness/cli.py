"""Running `kiosk` as a real process, and what every robustness test asserts
about its output."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def kiosk(*args: str, config: Path | None = None, env: dict | None = None, timeout: float = 180,
          log_file: Path | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.pop("KIOSK_CONFIG", None)
    if config is not None:
        full_env["KIOSK_CONFIG"] = str(config)
    if log_file is not None:
        full_env["KIOSK_LOG_FILE"] = str(log_file)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    for stream in (result.stderr, result.stdout):
        assert "Traceback" not in stream, stream
        assert "Cannot operate on a closed database" not in stream, stream


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The command failed with one line on stderr (a patient sentence may precede it)."""
    assert_no_traceback(result)
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no error message on stderr"
    return lines[-1]
