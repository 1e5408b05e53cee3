"""The end-of-session check (tests/leaks.py, tests/conftest.py): a process a
test leaves behind is named, killed and fails the run — also a server started
in a new session and re-parented to init after its launcher died."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests import leaks

ROOT = Path(__file__).resolve().parent.parent

LEAKY = '''
import subprocess, sys, time

def test_leaves_a_sleeper_behind(tmp_path):
    # a grandchild in its own session whose parent exits at once: re-parented to init
    code = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], start_new_session=True)"
    subprocess.run([sys.executable, "-c", code], check=True)
'''

CLEAN = '''
import subprocess, sys

def test_stops_what_it_starts():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    proc.terminate()
    proc.wait()
'''


def run_inner(tmp_path, source: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_inner.py").write_text(source, encoding="utf-8")
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"),
                                          encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(leaks.MARK, None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                           "--basetemp", str(tmp_path / "base"), str(tmp_path / "test_inner.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def sleepers_marked_by(run: subprocess.CompletedProcess) -> list[leaks.Proc]:
    return [p for p in leaks.processes().values() if "time.sleep(120)" in p.cmdline and p.state != "Z"
            and p.mark and p.mark != os.environ.get(leaks.MARK)]


def test_a_leaked_process_fails_the_run_and_is_killed(tmp_path):
    run = run_inner(tmp_path, LEAKY)
    out = run.stdout + run.stderr
    assert "1 passed" in out and run.returncode == 1, out
    assert "left running by the tests (now killed): python" in out
    time.sleep(0.2)
    assert sleepers_marked_by(run) == []


def test_a_clean_run_passes(tmp_path):
    run = run_inner(tmp_path, CLEAN)
    assert run.returncode == 0 and "left running" not in run.stdout, run.stdout + run.stderr


def test_this_session_is_marked_and_counts_only_its_own():
    token = os.environ[leaks.MARK]
    assert token.endswith(f"-{os.getpid()}")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                             env={**os.environ, leaks.MARK: "another-session-1"}, start_new_session=True)
    mine = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        time.sleep(0.3)
        found = {p.pid for p in leaks.survivors(token, [ROOT])}
        assert mine.pid in found  # a child
        assert other.pid in found  # also a child, whatever its mark
        orphans = [p for p in leaks.processes().values() if p.mark == "another-session-1"]
        assert [p.pid for p in orphans] == [other.pid]
    finally:
        for proc in (other, mine):
            proc.kill()
            proc.wait()
    assert {p.pid for p in leaks.survivors(token, [ROOT])} & {other.pid, mine.pid} == set()
