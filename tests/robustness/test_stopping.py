"""Starting and stopping: the sender hands back its claims before the database
closes, going offline needs more than one failed probe, `kiosk checkin` and
`kiosk demo` stop cleanly on real signals, and the demo's tour completes."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fhir_his.his import FhirHis
from kiosk.ports import MODE_OFFLINE, MODE_ONLINE
from tests.helpers import make_config, request_for
from tests.offline.helpers import Parts, db_rows, encounters_by_checkin, identity, offline_config
from tests.robustness.cli import ROOT, assert_no_traceback, kiosk

pytestmark = pytest.mark.integration


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command name) of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid:
            found.append((int(entry.name), name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[1][0] != "Z"


def wait_for(predicate, timeout: float = 60.0, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


# --- the sender and the probe -----------------------------------------------------

def test_sender_stopping_mid_batch_hands_back_its_claims_before_the_database_closes(tmp_path, fresh_sandbox, caplog):
    config = offline_config(tmp_path / "data", fresh_sandbox.base_url, lease_s=600.0)
    parts = Parts(config)
    parts.prober.refresh_reference(force=True)
    parts.monitor.report_unavailable("test: queue offline")
    refs = [parts.handler.check_in(request_for(identity(700 + i), "NOI")).ticket.reference for i in range(6)]
    fresh_sandbox.set_faults(delay_ms=700)  # every HIS call is slow: the batch is mid-way when we stop
    with caplog.at_level(logging.INFO):
        parts.sender.start()
        parts.monitor.report_ok("test: back online")
        assert wait_for(lambda: db_rows(parts.database.path, "SELECT count(*) FROM outbox WHERE state='sending'")[0][0],
                        timeout=30)
        parts.sender.stop()
        parts.close()
    states = dict(db_rows(config.database_path(), "SELECT state, count(*) FROM outbox GROUP BY state"))
    assert "sending" not in states and sum(states.values()) == 6  # delivered or handed back, none left claimed
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert "closed database" not in caplog.text
    fresh_sandbox.set_faults()
    again = Parts(config)
    try:
        again.monitor.report_ok("test")
        again.sender.sync_now()
        assert encounters_by_checkin(again.his, refs) == {r: 1 for r in refs}
    finally:
        again.close()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_one_lost_probe_reply_does_not_switch_the_kiosk_offline(tmp_path, fresh_sandbox):
    config = offline_config(tmp_path / "data", fresh_sandbox.base_url, confirm_offline_s=10.0)
    parts = Parts(config)
    clock = Clock()
    parts.prober._clock = clock
    try:
        fresh_sandbox.set_faults(fail_status=503, fail_count=1)  # one lost /metadata reply
        assert parts.prober.probe_once() is False
        assert parts.monitor.mode() == MODE_ONLINE and parts.prober.confirming
        clock.now += 2
        assert parts.prober.probe_once() is True and not parts.prober.confirming
        assert parts.monitor.mode() == MODE_ONLINE

        fresh_sandbox.set_faults(fail_status=503, fail_count=1_000_000)  # the HIS is really down
        assert parts.prober.probe_once() is False
        clock.now += 4
        assert parts.prober.probe_once() is False and parts.monitor.mode() == MODE_ONLINE  # still confirming
        clock.now += 7  # 11 s of failures, three probes: confirmed
        assert parts.prober.probe_once() is False and parts.monitor.mode() == MODE_OFFLINE
        fresh_sandbox.set_faults()
        assert parts.prober.probe_once() is True and parts.monitor.mode() == MODE_ONLINE
    finally:
        parts.close()


def test_a_failed_delivery_is_confirmed_by_the_probe_before_the_kiosk_goes_offline(tmp_path, fresh_sandbox):
    config = offline_config(tmp_path / "data", fresh_sandbox.base_url, confirm_offline_s=10.0)
    parts = Parts(config)
    clock = Clock()
    parts.prober._clock = clock
    try:
        parts.prober.refresh_reference(force=True)
        fresh_sandbox.set_faults(fail_status=503, fail_count=1_000_000)
        assert parts.handler.check_in(request_for(identity(721), "NOI")).mode == "offline"  # queued
        parts.monitor.report_ok("test: the HIS seemed back")

        report = parts.parts.sender.deliver_due(ignore_backoff=True)  # one delivery meets the HIS down
        assert report.his_unavailable and report.delivered == 0
        assert parts.monitor.mode() == MODE_ONLINE and parts.prober.confirming  # not offline on one failure
        clock.now += 11
        assert parts.prober.probe_once() is False and parts.monitor.mode() == MODE_OFFLINE  # confirmed

        fresh_sandbox.set_faults()
        assert parts.prober.probe_once() is True
        assert parts.parts.sender.sync_now(max_seconds=60).delivered == 1
    finally:
        fresh_sandbox.set_faults()
        parts.close()


def test_a_failed_checkin_still_gets_its_offline_ticket_at_once(tmp_path, fresh_sandbox):
    config = offline_config(tmp_path / "data", fresh_sandbox.base_url, confirm_offline_s=600.0)
    parts = Parts(config)
    try:
        parts.prober.refresh_reference(force=True)
        fresh_sandbox.set_faults(fail_status=503, fail_count=1_000_000)
        result = parts.handler.check_in(request_for(identity(720), "NOI"))
        assert result.mode == "offline" and result.ticket.offline
    finally:
        fresh_sandbox.set_faults()
        parts.close()


# --- real processes and real signals ------------------------------------------------

def write_config(tmp_path, base_url: str, **offline) -> Path:
    cfg = tmp_path / "kiosk.toml"
    extra = "".join(f"{k} = {v}\n" for k, v in offline.items())
    cfg.write_text(f'[kiosk]\nid = "KIOSK-05"\ndata_dir = "{tmp_path / "data"}"\n[his]\nbase_url = "{base_url}"\n'
                   f"[offline]\ngo_offline_after_s = 20.0\n{extra}", encoding="utf-8")
    return cfg


def test_checkin_with_queued_checkins_and_a_slow_his_ends_without_a_closed_database_error(tmp_path, fresh_sandbox):
    cfg = write_config(tmp_path, fresh_sandbox.base_url)
    dead = tmp_path / "dead.toml"
    dead.write_text(cfg.read_text().replace(fresh_sandbox.base_url, "http://127.0.0.1:9/fhir/R4")
                    .replace("go_offline_after_s = 20.0", "go_offline_after_s = 2.0"), encoding="utf-8")
    assert kiosk("sync", config=cfg).returncode == 0
    queued = [json.loads(kiosk("checkin", "--json", "--id", f"07919970000{i}", "--department", "NOI",
                               config=dead).stdout)["ticket"]["reference"] for i in range(3)]
    fresh_sandbox.set_faults(delay_ms=400)
    r = kiosk("checkin", "--json", "--id", "079199700009", "--department", "NOI", config=cfg)
    assert_no_traceback(r)
    assert r.returncode == 0 and json.loads(r.stdout)["mode"] == "online"
    states = dict(db_rows(tmp_path / "data" / "kiosk.sqlite3", "SELECT state, count(*) FROM outbox GROUP BY state"))
    assert "sending" not in states
    fresh_sandbox.set_faults()
    assert_no_traceback(kiosk("sync", config=cfg))
    his = FhirHis(make_config(fresh_sandbox.base_url))
    try:
        assert encounters_by_checkin(his, queued) == {q: 1 for q in queued}
    finally:
        his.client.close()


def test_sigterm_during_a_checkin_then_a_retry_makes_one_visit(tmp_path, fresh_sandbox):
    cfg = write_config(tmp_path, fresh_sandbox.base_url)
    cid = "0c9e6f1a-3b2d-4e5f-8a7b-6c5d4e3f2a1b"
    args = ["checkin", "--json", "--id", "079199700010", "--department", "NOI", "--checkin-id", cid]
    fresh_sandbox.set_faults(delay_ms=1500)
    env = dict(os.environ, KIOSK_CONFIG=str(cfg))
    proc = subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3.0)  # started, and a HIS request of the check-in is in flight (each takes 1.5 s)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (0, 130), err
    assert "Traceback" not in err and "closed database" not in err
    fresh_sandbox.set_faults()
    r = kiosk(*args, config=cfg)
    assert r.returncode == 0, r.stderr
    his = FhirHis(make_config(fresh_sandbox.base_url))
    try:
        assert encounters_by_checkin(his, [cid]) == {cid: 1}  # never a second visit
    finally:
        his.client.close()


def start_demo(tmp_path, *args, env_extra=None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONFAULTHANDLER="1", **(env_extra or {}))  # SIGABRT dumps every thread's stack
    env.pop("KIOSK_CONFIG", None)
    return subprocess.Popen([sys.executable, "-m", "app", "demo", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("mode", ["offscreen_tour", "window", "window_starting"])
def test_demo_stops_its_sandbox_on_signals(tmp_path, sig, mode):
    if mode == "offscreen_tour":
        proc = start_demo(tmp_path, "--offscreen", "--screenshots", str(tmp_path / "shots"))
    else:  # the interactive demo with its Qt loop (offscreen platform: no display needed)
        proc = start_demo(tmp_path, env_extra={"QT_QPA_PLATFORM": "offscreen"})
    try:
        node = wait_for(lambda: [p for p, name in children(proc.pid) if name == "node"], timeout=60)
        assert node, "the demo's sandbox HIS did not start"
        if mode == "offscreen_tour":
            assert wait_for(lambda: (tmp_path / "shots").exists() and any((tmp_path / "shots").iterdir()), 120)
        elif mode == "window":
            time.sleep(3.0)  # the window is up and its loop runs
        # window_starting: the signal comes while the window is still being built
        proc.send_signal(sig)
        try:
            out, err = proc.communicate(timeout=120)  # a hang guard, not a speed requirement
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # where is it stuck? (faulthandler prints the stacks)
            out, err = proc.communicate(timeout=30)
            pytest.fail(f"kiosk demo did not stop after {sig.name}:\n{err[-6000:]}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert wait_for(lambda: not alive(node[0]), timeout=15), "the sandbox HIS was left running"
    assert "Traceback" not in err, err
    # SIGTERM is a clean stop asked by the system (make demo reports no error); Ctrl-C is 130 as shells expect
    assert proc.returncode == (0 if sig == signal.SIGTERM else 130), err


def test_demo_tour_completes_when_the_decoders_load_slowly(tmp_path):
    """The cause of "timed out waiting for reading (step need_key)": the first QR
    was shown while the decoders were still loading. Slow them down on purpose."""
    code = ("import sys, time\n"
            "import devices.camera.cascade as c\n"
            "init = c.Cascade.__init__\n"
            "def slow(self, *a, **k):\n    time.sleep(2.0)\n    init(self, *a, **k)\n"
            "c.Cascade.__init__ = slow\n"
            "from app.cli import main\n"
            f"sys.exit(main(['demo', '--offscreen', '--screenshots', {str(tmp_path / 'shots')!r}]))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert_no_traceback(r)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    names = {Path(p).stem for p in result["screenshots"]}
    assert {"card_needs_key", "reading", "done", "error_card_removed", "done_offline"} <= names
    assert result["count"] == len(list((tmp_path / "shots").glob("*.png")))


@pytest.mark.parametrize("args", [["config", "check", "{cfg}"], ["print-test", "--preview", "{png}"],
                                  ["--help"]])
def test_a_closed_pipe_ends_a_command_quietly(tmp_path, args):
    """`kiosk … | head` whose reader has gone: no "unexpected error (BrokenPipeError)",
    no "Exception ignored" at exit — a quiet end with the shell's status for it."""
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    args = [a.format(cfg=cfg, png=tmp_path / "t.png") for a in args]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader went away before the command wrote anything
    env = dict(os.environ)
    env.pop("KIOSK_CONFIG", None)
    try:
        proc = subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert proc.stderr.strip() == "", proc.stderr
    assert proc.returncode == (141 if args != ["--help"] else 0)  # argparse itself ignores a closed pipe
