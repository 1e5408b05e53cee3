"""The README's "Try it" examples work as they are written (issue 24): every
line of the ``sh`` block under that heading is run, word for word, in a
scratch folder holding a ``kiosk.toml`` that points at a started sandbox HIS.
The stats examples use relative days (``today``, ``today-6``), so the report
is never empty against the sandbox seeded today."""
from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def try_it_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)\n```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_try_it_block_is_there_and_only_kiosk_commands():
    commands = try_it_commands()
    assert len(commands) >= 4
    assert all(shlex.split(c)[0] == "kiosk" for c in commands)
    assert any("stats" in c for c in commands) and any("--new-secret" in c for c in commands)


def test_every_try_it_example_runs_against_the_sandbox(fresh_sandbox, tmp_path):
    (tmp_path / "kiosk.toml").write_text(f'[his]\nbase_url = "{fresh_sandbox.base_url}"\n', encoding="utf-8")
    env = {**os.environ, "KIOSK_CONFIG": str(tmp_path / "kiosk.toml"), "PYTHONPATH": str(ROOT),
           "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "share")}  # the default data_dir, kept here
    outputs = {}
    for line in try_it_commands():
        argv = shlex.split(line)[1:]
        done = subprocess.run([sys.executable, "-m", "app", *argv], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, env=env)
        assert done.returncode == 0, (line, done.stdout[-2000:], done.stderr[-2000:])
        outputs[line] = done.stdout
    secret = tmp_path / "queue-token.secret"
    assert secret.is_file() and stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert (tmp_path / "week.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    figures = json.loads(next(out for line, out in outputs.items() if "stats" in line and "--json" in line))
    assert figures["total"]["checkins"] >= 1 and figures["total"]["booked"] >= 1, figures  # not an empty report


def test_stats_days_may_be_relative():
    from datetime import date

    from app.cli.stats import relative_day

    today = date(2026, 3, 2)
    assert [relative_day(t, today) for t in ("today", "Yesterday", "today-6", " today ", "2026-01-31", None)] == [
        "2026-03-02", "2026-03-01", "2026-02-24", "2026-03-02", "2026-01-31", None]
    assert relative_day("today+1", today) == "today+1"  # left for make_query to refuse, naming the option


def test_new_secret_writes_the_file_named_without_a_config(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KIOSK_CONFIG": str(tmp_path / "none.toml"),
           "XDG_CONFIG_HOME": str(tmp_path)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "app", "queue-server", *a], cwd=tmp_path,  # noqa: E731
                                    capture_output=True, text=True, timeout=60, env=env)
    done = run("--new-secret", "sub/q.secret")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["written"].endswith("sub/q.secret")
    assert stat.S_IMODE((tmp_path / "sub" / "q.secret").stat().st_mode) == 0o600
    again = run("--new-secret", "sub/q.secret")
    assert again.returncode != 0 and "exists already" in again.stderr
    assert run("--new-secret", "sub/q.secret", "--force").returncode == 0
    bare = run("--new-secret")  # no FILE and no config: says how to give one
    assert bare.returncode != 0 and "--new-secret /etc/kiosk/queue-token.secret" in bare.stderr
