"""`kiosk doctor`: config, HIS (sandbox), disk and database checks, and how a
missing, broken or hanging device package is reported."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import free_port, make_config
from his_gate import HisGate

from app.doctor import run_doctor
from fhir_his.doctor_checks import check_his
from kiosk.config.writer import update_config
from kiosk.operations.diagnostics import FAIL, OK, WARN, Check
from offline_cache.diagnose import check_database

ROOT = Path(__file__).resolve().parents[2]


def by_name(checks) -> dict[str, Check]:
    return {c.name: c for c in checks}


def write_config(tmp_path: Path, **sections) -> Path:
    path = tmp_path / "kiosk.toml"
    changes = {"kiosk.data_dir": str(tmp_path / "data")}
    for section, values in sections.items():
        changes.update({f"{section}.{k}": v for k, v in values.items()})
    update_config(path, changes)
    return path


def doctor_cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "doctor", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)


# --- HIS -------------------------------------------------------------------------

def test_his_checks_all_ok_against_the_sandbox(his_sandbox):
    checks = by_name(check_his(make_config(his_sandbox.base_url)))
    assert {n: c.status for n, c in checks.items()} == {
        "his.reachable": OK, "his.clock": OK, "his.capability": OK, "his.auth": OK, "his.capabilities": OK}
    assert "FHIR 4.0" in checks["his.capability"].detail
    matrix = {row["capability"]: row for row in checks["his.capabilities"].data["matrix"]}
    assert matrix["transaction"]["declared"] is True and matrix["transaction"]["strategy"] == "one transaction per visit"


def test_his_stopped_is_a_fail_with_a_fix(fresh_sandbox):
    config = make_config(fresh_sandbox.base_url)
    fresh_sandbox.stop()
    [check] = check_his(config)
    assert check.name == "his.reachable" and check.status == FAIL
    assert "cannot connect" in check.detail and "his.base_url" in check.fix


def test_wrong_base_path_is_explained(his_sandbox):
    [check] = check_his(make_config(his_sandbox.base_url.replace("/fhir/R4", "/nothing")))
    assert check.status == FAIL and "his.base_url must be the FHIR base" in check.fix


def test_credentials_refused_and_accepted(his_sandbox):
    with HisGate(his_sandbox.base_url, token="s3cret") as gate:
        refused = by_name(check_his(make_config(gate.base_url)))
        assert refused["his.reachable"].status == OK
        assert refused["his.auth"].status == FAIL and "set his.auth" in refused["his.auth"].fix
        wrong = by_name(check_his(make_config(gate.base_url, his={"auth": "bearer", "token": "nope"})))
        assert wrong["his.auth"].status == FAIL and "bearer token was refused" in wrong["his.auth"].fix
        good = by_name(check_his(make_config(gate.base_url, his={"auth": "bearer", "token": "s3cret"})))
        assert good["his.auth"].status == OK and good["his.capability"].status == OK


@pytest.mark.parametrize("skew_s, status, words", [
    (0, OK, "within"), (-75, WARN, "ahead of"), (600, FAIL, "behind"),
])
def test_clock_skew_against_the_his_date_header(his_sandbox, skew_s, status, words):
    with HisGate(his_sandbox.base_url, skew_s=skew_s) as gate:
        clock = by_name(check_his(make_config(gate.base_url)))["his.clock"]
    assert clock.status == status and words in clock.detail
    if status != OK:
        assert "timedatectl set-ntp true" in clock.fix


def test_missing_date_header_is_a_warning_not_ok(his_sandbox):
    with HisGate(his_sandbox.base_url, send_date=False) as gate:
        assert by_name(check_his(make_config(gate.base_url)))["his.clock"].status == WARN


# --- disk and database --------------------------------------------------------------

def test_database_integrity(tmp_path):
    db = tmp_path / "kiosk.sqlite3"
    config = make_config(offline={"database": str(db)})
    assert check_database(config)[0].status == WARN  # not created yet: never OK
    con = sqlite3.connect(db)
    con.execute("create table t(x)")
    con.executemany("insert into t values (?)", [(i,) for i in range(2000)])
    con.commit()
    con.close()
    ok = check_database(config)[0]
    assert ok.status == OK and "integrity ok" in ok.detail
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) >= 4 * page
    data[2 * page:3 * page] = b"\xa5" * page  # a whole b-tree page of the table overwritten
    db.write_bytes(bytes(data))
    broken = check_database(config)[0]
    assert broken.status == FAIL and broken.fix
    db.write_bytes(b"this is not a database at all" * 100)
    assert check_database(config)[0].status == FAIL


def test_disk_and_data_dir(tmp_path):
    checks = by_name(run_doctor(str(write_config(tmp_path)), only={"disk"})[0])
    assert checks["disk.data_dir"].status == WARN and "does not exist yet" in checks["disk.data_dir"].detail
    (tmp_path / "data").mkdir()
    checks = by_name(run_doctor(str(write_config(tmp_path)), only={"disk"})[0])
    assert checks["disk.data_dir"].status == OK and "MB free" in checks["disk.space"].detail


# --- config --------------------------------------------------------------------------

def test_invalid_config_fails_and_says_which_key(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('[printer]\ndot_width = 400\n')
    out = doctor_cli("--config", str(path), "--json")
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["checks"][0]["status"] == FAIL
    assert "printer.dot_width: expected one of 384, 512, 576" in report["checks"][0]["detail"]
    assert "kiosk config check" in report["checks"][0]["fix"]


def test_no_config_and_no_pin_are_warnings(tmp_path, monkeypatch):
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert not Path("/etc/kiosk/kiosk.toml").exists()  # a test machine has no system-wide kiosk config
    checks, _ = run_doctor(None, only={"disk"})
    named = by_name(checks)
    assert named["config"].status == WARN and "kiosk.sample.toml" in named["config"].fix
    assert named["config.admin_pin"].status == WARN and "kiosk admin set-pin" in named["config.admin_pin"].fix


# --- devices: raising, answering nothing, hanging; the software incomplete ----------------

class Device:
    def __init__(self, diagnose):
        self.diagnose = diagnose

    def close(self):
        pass


def test_a_device_check_that_raises_or_returns_nothing_is_a_fail(tmp_path, monkeypatch):
    from app import compose

    def boom():
        raise RuntimeError("reader exploded 001093012345")

    monkeypatch.setattr(compose, "build_scanner", lambda config: Device(boom))
    monkeypatch.setattr(compose, "build_printer", lambda config, **kw: Device(lambda: []))
    checks = by_name(run_doctor(str(write_config(tmp_path)), only={"camera", "printer"})[0])
    assert checks["camera"].status == FAIL and "RuntimeError" in checks["camera"].detail
    assert "001093012345" not in checks["camera"].detail  # redacted
    assert checks["printer"].status == FAIL and "no usable result" in checks["printer"].detail


def test_settings_that_cannot_make_a_device_are_a_fail_naming_the_key(tmp_path):
    path = write_config(tmp_path, printer={"driver": "simulator", "profile": "NO-SUCH"})
    checks = by_name(run_doctor(str(path), only={"printer"})[0])
    assert checks["printer"].status == FAIL and "printer.profile" in checks["printer"].detail


def test_incomplete_software_fails_loudly_in_one_line(tmp_path):
    """A dependency of the offline cache missing: every command says so, none runs without its outbox."""
    code = ("import sys; sys.modules['offline_cache'] = None; from app.cli import main; "
            f"sys.exit(main(['doctor', '--config', {str(write_config(tmp_path))!r}]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "offline_cache" in out.stderr and "make install" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_hanging_probe_is_reported_at_the_deadline(tmp_path, monkeypatch):
    from app import compose

    release = threading.Event()

    def hang():
        release.wait(30)
        return [Check("camera", OK, "late")]

    monkeypatch.setattr(compose, "build_scanner", lambda config: Device(hang))
    try:
        checks = by_name(run_doctor(str(write_config(tmp_path)), only={"camera", "disk"}, timeout_s=1.0)[0])
    finally:
        release.set()
    assert checks["camera"].status == FAIL and "no answer within 1 s" in checks["camera"].detail
    assert checks["disk.space"].status in (OK, WARN, FAIL)  # the other probes still reported


def test_drivers_switched_off_are_not_probed(tmp_path):
    path = write_config(tmp_path, card_reader={"driver": "none"}, camera={"driver": "none"},
                        printer={"driver": "none"})
    checks = by_name(run_doctor(str(path), only={"card_reader", "camera", "printer", "voice"})[0])
    for name in ("card_reader", "camera", "printer"):
        assert checks[name].status == OK and "driver = \"none\"" in checks[name].detail
    assert checks["voice"].status == OK and "not a calling board" in checks["voice"].detail


def test_every_problem_fits_one_line_with_a_fix_on_a_bare_machine(tmp_path):
    """Nothing attached: no pcscd reader, no camera, no printer, no HIS."""
    path = write_config(tmp_path, his={"base_url": f"http://127.0.0.1:{free_port()}/fhir/R4"},
                        card_reader={"driver": "pcsc", "reader": "NO-SUCH-READER"}, camera={"driver": "opencv", "source": "/dev/video99"},
                        printer={"driver": "escpos", "connection": f"network:127.0.0.1:{free_port()}"})
    out = doctor_cli("--config", str(path), "--json", "--timeout", "20")
    report = json.loads(out.stdout)
    assert out.returncode == 1 and report["ok"] is False
    checks = report["checks"]
    names = {c["name"].split(".")[0] for c in checks}
    assert {"config", "card_reader", "camera", "printer", "his", "disk", "database"} <= names | {
        c["name"] for c in checks}
    for c in checks:
        assert "\n" not in c["detail"] and "\n" not in c["fix"]
        if c["status"] != OK:
            assert c["fix"], c
    his = next(c for c in checks if c["name"] == "his.reachable")
    assert his["status"] == FAIL
    for device in ("card", "camera", "printer"):
        device_checks = [c for c in checks if c["name"].startswith(device)]
        assert device_checks and any(c["status"] == FAIL for c in device_checks), device
    text = doctor_cli("--config", str(path), "--timeout", "20")
    assert text.returncode == 1 and "FAIL" in text.stdout and "→" in text.stdout


def test_metrics_endpoint_checked_only_when_enabled(tmp_path):
    from app.metrics_http import MetricsServer
    from kiosk.operations.metrics import UP, Registry

    assert "metrics" not in by_name(run_doctor(str(write_config(tmp_path)), only={"metrics"})[0])
    port = free_port()
    path = write_config(tmp_path, metrics={"enabled": True, "port": port})
    missing = by_name(run_doctor(str(path), only={"metrics"})[0])["metrics"]
    assert missing.status == WARN and "nothing answers" in missing.detail
    registry = Registry()
    UP.set(1, registry=registry)
    with MetricsServer(port, registry):
        served = by_name(run_doctor(str(path), only={"metrics"})[0])["metrics"]
    assert served.status == OK and str(port) in served.detail
