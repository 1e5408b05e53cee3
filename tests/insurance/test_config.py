"""[insurance] settings: every key validated, errors name the key; the
password lives only in a private file; `kiosk config check` says so."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config.loader import config_from_dict
from kiosk.config.writer import update_config
from kiosk.errors import ConfigError
from kiosk.insurance.outcomes import DEFAULT_POLICY

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def secret(tmp_path) -> Path:
    path = tmp_path / "bhxh-password"
    path.write_text("s3cret-value\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def used(secret, **changes) -> dict:
    """A complete [insurance] table for the real gateway, with ``changes``."""
    return {"insurance": {"gateway": "bhxh", "base_url": "https://egw.baohiemxahoi.gov.vn", "username": "bv27001",
                          "password_file": str(secret), "staff_name": "PHẠM THỊ THU", "staff_cccd": "027190000111",
                          "facility_code": "27001", **changes}}


def test_defaults_mean_no_gateway():
    ins = config_from_dict({}).insurance
    assert (ins.gateway, ins.base_url, ins.on_invalid, ins.outcomes) == (
        "none", "https://egw.baohiemxahoi.gov.vn", "", {})
    assert ins.policy() == DEFAULT_POLICY and ins.policy()["no_card"] == "fee"
    assert ins.timeout_s == 15.0 and ins.recheck_after_s == 900.0 and ins.password_file == ""


def test_a_complete_section_is_accepted(secret):
    ins = config_from_dict(used(secret, timeout_s=40, recheck_after_s=0, on_invalid="fee")).insurance
    assert ins.timeout_s == 40.0 and ins.recheck_after_s == 0.0 and ins.on_invalid == "fee"
    sim = config_from_dict(used(secret, gateway="simulator", base_url="http://127.0.0.1:8099")).insurance
    assert sim.gateway == "simulator"


@pytest.mark.parametrize("changes, message", [
    ({"gateway": "vssid"}, "insurance.gateway: expected one of bhxh, simulator, none"),
    ({"base_url": "egw.baohiemxahoi.gov.vn"}, "insurance.base_url: expected an http(s) URL"),
    ({"base_url": "http://egw.baohiemxahoi.gov.vn"}, "insurance.base_url: expected an https URL when "
                                                      "insurance.gateway = \"bhxh\""),
    ({"username": ""}, "insurance.username: expected the gateway account name"),
    ({"username": 27001}, "insurance.username: expected a string"),
    ({"password_file": ""}, "insurance.password_file: expected the path of the file"),
    ({"staff_name": ["A"]}, "insurance.staff_name: expected a string"),
    ({"staff_cccd": "02719000011"}, "insurance.staff_cccd: expected 12 digits"),
    ({"staff_cccd": "０２７１９００００１１１"}, "insurance.staff_cccd: expected 12 digits"),  # full-width digits
    ({"facility_code": "2700"}, "insurance.facility_code: expected 5 digits"),
    ({"facility_code": "2700A"}, "insurance.facility_code: expected 5 digits"),
    ({"timeout_s": 0}, "insurance.timeout_s: expected a number of seconds, more than 0 and at most 120"),
    ({"timeout_s": 600}, "insurance.timeout_s: expected a number of seconds"),
    ({"timeout_s": "15"}, "insurance.timeout_s: expected a number"),
    ({"recheck_after_s": -1}, "insurance.recheck_after_s: expected a number ≥ 0"),
    ({"on_invalid": "refuse"}, "insurance.on_invalid: expected counter or fee"),
    ({"outcomes": {"no_card": "insured"}}, "insurance.outcomes: expected no_card = one of fee, counter"),
    ({"outcomes": {"lost": "fee"}}, "insurance.outcomes: expected outcomes among no_card"),
    ({"password": "s3cret"}, "insurance.password: unknown setting"),
])
def test_errors_name_the_key(secret, changes, message):
    with pytest.raises(ConfigError) as exc:
        config_from_dict(used(secret, **changes))
    assert message in str(exc.value)


def test_a_wrong_staff_cccd_is_not_echoed(secret):
    with pytest.raises(ConfigError) as exc:
        config_from_dict(used(secret, staff_cccd="02719000011"))
    assert "02719000011" not in str(exc.value) and "11 characters" in str(exc.value)


def test_with_gateway_none_the_other_keys_are_only_checked_for_shape():
    assert config_from_dict({"insurance": {"username": "", "password_file": "/nowhere"}}).insurance.gateway == "none"
    with pytest.raises(ConfigError, match="insurance.facility_code"):
        config_from_dict({"insurance": {"facility_code": "1"}})


def test_the_password_file_must_exist_be_private_and_not_empty(secret, tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(ConfigError, match=r"insurance.password_file: .*missing does not exist"):
        config_from_dict(used(secret, password_file=str(missing)))
    for mode in (0o640, 0o604, 0o644, 0o660):
        secret.chmod(mode)
        with pytest.raises(ConfigError) as exc:
            config_from_dict(used(secret))
        text = str(exc.value)
        assert text.startswith("insurance.password_file: ") and "readable by group or others" in text
        assert f"mode 0{mode:o}" in text and f"chmod 600 {secret}" in text
    secret.chmod(0o400)
    assert config_from_dict(used(secret)).insurance.password_file == str(secret)
    secret.chmod(0o600)
    secret.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="insurance.password_file: .* is empty"):
        config_from_dict(used(secret))
    with pytest.raises(ConfigError, match="insurance.password_file: .* is not a file"):
        config_from_dict(used(secret, password_file=str(tmp_path)))


def test_errors_never_show_the_password(secret):
    secret.chmod(0o644)
    with pytest.raises(ConfigError) as exc:
        config_from_dict(used(secret))
    assert "s3cret-value" not in str(exc.value)


def _config_check(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "config", "check", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_kiosk_config_check_fails_for_a_missing_or_readable_password_file(secret, tmp_path):
    path = tmp_path / "kiosk.toml"
    update_config(path, {f"insurance.{k}": v for k, v in used(secret)["insurance"].items()})
    ok = _config_check(path)
    assert ok.returncode == 0 and "insurance bhxh" in ok.stdout
    secret.chmod(0o644)
    readable = _config_check(path)
    assert readable.returncode == 1 and "Traceback" not in readable.stderr
    assert "insurance.password_file" in readable.stderr and "readable by group or others" in readable.stderr
    assert "s3cret-value" not in readable.stderr + readable.stdout
    os.remove(secret)
    missing = _config_check(path)
    assert missing.returncode == 1 and "insurance.password_file" in missing.stderr
    assert "does not exist" in missing.stderr


def test_the_sample_config_documents_the_section():
    text = (ROOT / "assets" / "kiosk.sample.toml").read_text(encoding="utf-8")
    section = text[text.index("[insurance]"):text.index("[card_reader]")]
    for key in ("gateway", "base_url", "username", "password_file", "staff_name", "staff_cccd", "facility_code",
                "timeout_s", "recheck_after_s", "on_invalid"):
        assert f"\n{key} = " in section and "#" in section.split(f"\n{key} = ")[1].splitlines()[0], key


def imports_in(package: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(rel, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((rel, node.module))
    return found


def test_the_simulator_imports_nothing_from_the_kiosk():
    assert [m for _, m in imports_in("sandbox_bhxh")
            if m.split(".")[0] in {"kiosk", "app", "ui", "devices", "offline_cache", "requests"}] == []


def test_only_the_composition_root_imports_the_bhxh_adapter():
    users = {f for package in ("kiosk", "app", "ui", "devices", "offline_cache")
             for f, m in imports_in(package) if m.startswith("bhxh_gateway") and not f.startswith("bhxh_gateway/")}
    assert users == {"app/compose.py"}
