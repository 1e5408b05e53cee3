"""`kiosk doctor`'s insurance probe: not used, all OK against the simulator,
and each problem reported with the setting to fix."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.compose import device_checks
from kiosk.config.loader import config_from_dict
from kiosk.config.writer import update_config
from kiosk.operations.diagnostics import FAIL, OK, WARN
from tests.insurance.support import insurance_config

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]



def check_insurance(config):
    """What `kiosk doctor` reports for the gateway the config builds."""
    return dict(device_checks(config))["insurance"]()

def by_name(checks) -> dict:
    return {c.name: c for c in checks}


def test_not_used_is_ok():
    assert [(c.name, c.status, c.detail) for c in check_insurance(config_from_dict({}))] == [
        ("insurance", OK, 'not used (insurance.gateway = "none")')]


def test_all_ok_against_the_simulator_with_one_token_request(fresh_simulator, tmp_path):
    checks = by_name(check_insurance(insurance_config(fresh_simulator, tmp_path)))
    assert {n: c.status for n, c in checks.items()} == {
        "insurance.password_file": OK, "insurance.staff": OK, "insurance.facility": OK,
        "insurance.reachable": OK, "insurance.login": OK}
    assert "credentials accepted" in checks["insurance.login"].detail
    assert fresh_simulator.stats()["token_requests"] == 1


def test_wrong_password_fails_the_login(simulator, tmp_path):
    config = insurance_config(simulator, tmp_path)
    Path(config.insurance.password_file).write_text("wrong\n", encoding="utf-8")
    checks = by_name(check_insurance(config))
    assert checks["insurance.reachable"].status == OK
    login = checks["insurance.login"]
    assert login.status == FAIL and "maKetQua 401" in login.detail and "insurance.password_file" in login.fix


def test_unreachable_gateway_fails(tmp_path):
    from app.sandbox import GatewaySimulator

    with GatewaySimulator() as sim:
        config = insurance_config(sim, tmp_path)
    checks = by_name(check_insurance(config))  # stopped: connection refused
    assert checks["insurance.reachable"].status == FAIL and "ConnectionError" in checks["insurance.reachable"].detail
    assert "insurance.base_url" in checks["insurance.reachable"].fix and "insurance.login" not in checks


def test_down_gateway_fails(fresh_simulator, tmp_path):
    fresh_simulator.mode(down=True)
    check = by_name(check_insurance(insurance_config(fresh_simulator, tmp_path)))["insurance.reachable"]
    assert check.status == FAIL and "HTTP 503" in check.detail


def test_missing_staff_identity_and_facility_are_reported(simulator, tmp_path):
    checks = by_name(check_insurance(insurance_config(simulator, tmp_path, staff_cccd="", facility_code="")))
    assert checks["insurance.staff"].status == FAIL and "insurance.staff_cccd" in checks["insurance.staff"].fix
    assert checks["insurance.facility"].status == WARN and "insurance.facility_code" in checks["insurance.facility"].fix


def test_a_password_file_opened_up_after_loading_is_reported(simulator, tmp_path):
    config = insurance_config(simulator, tmp_path)
    Path(config.insurance.password_file).chmod(0o644)
    checks = by_name(check_insurance(config))
    assert checks["insurance.password_file"].status == FAIL
    assert "readable by group or others" in checks["insurance.password_file"].detail
    assert checks["insurance.login"].status == FAIL and "not tried" in checks["insurance.login"].detail


def test_kiosk_doctor_only_insurance(simulator, tmp_path):
    path = tmp_path / "kiosk.toml"
    settings = simulator.insurance_settings(tmp_path)
    update_config(path, {"kiosk.data_dir": str(tmp_path / "data"),
                         **{f"insurance.{k}": v for k, v in settings.items()}})
    out = subprocess.run([sys.executable, "-m", "app", "doctor", "--config", str(path), "--only", "insurance",
                          "--json"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    report = json.loads(out.stdout)
    names = {c["name"]: c["status"] for c in report["checks"]}
    assert names["insurance.login"] == OK and names["insurance.reachable"] == OK
    assert out.returncode == 0 and "his.reachable" not in names
