"""`kiosk checkin` as a real process against a sandbox HIS whose answers
never end (fault rule ``endless``): the offline ticket is printed and the
process EXITS with status 0; SIGTERM during such a read ends it cleanly,
without a traceback; a huge name from the HIS (``huge_field``) is cut."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.robustness.cli import ROOT, assert_no_traceback, kiosk

pytestmark = pytest.mark.integration


def write_config(tmp_path, base_url: str, go_offline_after_s: float) -> os.PathLike:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[kiosk]\nid = "KIOSK-06"\ndata_dir = "{tmp_path / "data"}"\n[his]\nbase_url = "{base_url}"\n'
                   f"[offline]\ngo_offline_after_s = {go_offline_after_s}\n", encoding="utf-8")
    return cfg


def test_checkin_against_a_never_ending_answer_prints_the_offline_ticket_and_exits(tmp_path, fresh_sandbox):
    cfg = write_config(tmp_path, fresh_sandbox.base_url, 2.0)
    assert kiosk("sync", config=cfg).returncode == 0  # the departments, for the offline ticket
    fresh_sandbox.add_fault(match="* /", action="endless", count=1000)
    started = time.monotonic()
    r = kiosk("checkin", "--json", "--id", "079199700021", "--department", "NOI", config=cfg, timeout=120)
    took = time.monotonic() - started
    assert_no_traceback(r)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["mode"] == "offline" and result["ticket"]["offline"]
    assert took < 30, took  # the online attempt's read was shut when the kiosk closed


def test_sigterm_during_a_never_ending_read_ends_cleanly(tmp_path, fresh_sandbox):
    cfg = write_config(tmp_path, fresh_sandbox.base_url, 60.0)
    assert kiosk("sync", config=cfg).returncode == 0
    fresh_sandbox.add_fault(match="* /", action="endless", count=1000)
    env = dict(os.environ, KIOSK_CONFIG=str(cfg))
    proc = subprocess.Popen([sys.executable, "-m", "app", "checkin", "--id", "079199700022", "--department", "NOI"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(4.0)  # started, and reading an answer that never ends
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (0, 130), err
    assert "Traceback" not in err and "Traceback" not in out, err
    assert took < 15, took  # the check-in's close() waits 5 s for the attempt, then shuts its read


def test_a_huge_name_from_the_his_is_cut_before_it_reaches_the_result(tmp_path, fresh_sandbox):
    cfg = write_config(tmp_path, fresh_sandbox.base_url, 20.0)
    fresh_sandbox.add_fault(match="GET /(HealthcareService|Location)", action="huge_field", count=1000)
    r = kiosk("checkin", "--json", "--id", "079199700023", "--department", "NOI", config=cfg, timeout=120)
    assert_no_traceback(r)
    assert r.returncode == 0, r.stderr
    ticket = json.loads(r.stdout)["ticket"]
    assert len(ticket["department_name"]) <= 80 and ticket["department_name"].endswith("…")
    assert len(ticket["room_name"]) <= 60 and len(ticket["room_where"]) <= 80


def test_a_huge_patient_name_from_the_his_is_cut_before_it_reaches_the_ticket(tmp_path, fresh_sandbox):
    cfg = write_config(tmp_path, fresh_sandbox.base_url, 20.0)
    args = ["checkin", "--json", "--id", "079199700024", "--department", "NOI"]
    assert kiosk(*args, "--name", "Trần Thị Bình", "--dob", "1990-01-02", config=cfg).returncode == 0
    fresh_sandbox.add_fault(match="GET /Patient", action="huge_field", count=1000)
    r = kiosk(*args, config=cfg, timeout=120)
    assert_no_traceback(r)
    assert r.returncode == 0, r.stderr
    ticket = json.loads(r.stdout)["ticket"]
    assert 0 < len(ticket["masked_name"]) <= 100, ticket["masked_name"][:200]
