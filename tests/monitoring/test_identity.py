"""kiosk_info{kiosk, version, config_hash}: which kiosk runs what, and a hash
that changes with the settings but never carries a secret or personal data."""
from __future__ import annotations

import dataclasses
import json
import re

import pytest
import requests

from app.metrics_http import start_metrics_server
from kiosk.operations.build_info import _git_commit, config_hash, hashed_settings, software_version
from kiosk.operations.metrics import Registry
from tests.helpers import free_port, make_config

SECRETS = {"his": {"auth": "basic", "username": "kiosk-svc", "password": "S3cret-pass!"},
           "admin": {"pin_hash": "scrypt$16384$8$1$c2FsdA==$aGFzaA=="}}


def test_secrets_do_not_change_the_hash_and_settings_do():
    base = make_config()
    assert config_hash(base) == config_hash(make_config())
    assert re.fullmatch(r"[0-9a-f]{12}", config_hash(base))
    other_password = make_config(his={**SECRETS["his"], "password": "another"})
    with_secrets = make_config(**SECRETS)
    assert config_hash(other_password) == config_hash(make_config(his={**SECRETS["his"]}))
    assert config_hash(with_secrets) != config_hash(base)  # his.auth itself is a setting that matters
    assert config_hash(make_config(his={"auth": "bearer", "token": "t1"})) == \
        config_hash(make_config(his={"auth": "bearer", "token": "t2"}))
    assert config_hash(make_config(printer={"dot_width": 384})) != config_hash(base)
    assert config_hash(make_config(kiosk={"id": "KIOSK-02"})) == config_hash(base)  # the id has its own label


def test_no_secret_or_personal_setting_is_hashed(tmp_path):
    secret_file = tmp_path / "pw"
    secret_file.write_text("x\n")
    secret_file.chmod(0o600)
    config = make_config(**SECRETS, insurance={"gateway": "simulator", "username": "benhvien01",
                                               "password_file": str(secret_file), "staff_name": "LÊ VĂN CÁN BỘ",
                                               "staff_cccd": "001080000001", "facility_code": "01001"})
    hashed = json.dumps(hashed_settings(config), ensure_ascii=False, default=str)
    for value in ("kiosk-svc", "S3cret-pass!", "scrypt$", "benhvien01", str(secret_file), "LÊ VĂN CÁN BỘ",
                  "001080000001"):
        assert value not in hashed, value
    for section, key in (("his", "password"), ("his", "token"), ("his", "username"), ("admin", "pin_hash"),
                         ("insurance", "staff_cccd"), ("insurance", "staff_name"), ("insurance", "password_file")):
        assert key not in hashed_settings(config)[section]
    assert hashed_settings(config)["insurance"]["facility_code"] == "01001"
    every = {f"{s.name}.{f.name}" for s in dataclasses.fields(config) if not s.metadata.get("internal")
             for f in dataclasses.fields(getattr(config, s.name))}
    kept = {f"{s}.{k}" for s, keys in hashed_settings(config).items() for k in keys}
    assert every - kept == {"kiosk.id", "his.token", "his.username", "his.password", "insurance.username",
                            "insurance.password_file", "insurance.staff_name", "insurance.staff_cccd",
                            "admin.pin_hash", "queue_web.token_secret_file", "his.token_file", "his.password_file",
                            "his.client_secret_file", "his.private_key_file"}


def test_version_is_the_project_s_with_the_commit(tmp_path):
    version = software_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+(\+g[0-9a-f]{9})?", version)
    repo = tmp_path / "checkout"
    (repo / ".git" / "refs" / "heads").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (repo / ".git" / "packed-refs").write_text("# pack-refs\n" + "a" * 40 + " refs/heads/main\n")
    assert _git_commit(repo) == "a" * 40
    (repo / ".git" / "refs" / "heads" / "main").write_text("b" * 40 + "\n")
    assert _git_commit(repo) == "b" * 40
    assert _git_commit(tmp_path / "no-checkout") is None


@pytest.mark.parametrize("kiosk_id", ["KIOSK-01", "tang2.sanh-b"])
def test_kiosk_info_on_the_endpoint(kiosk_id):
    port = free_port()
    config = make_config(metrics={"enabled": True, "port": port}, kiosk={"id": kiosk_id}, **SECRETS)
    server = start_metrics_server(config, Registry())
    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        server.stop()
    line = next(ln for ln in text.splitlines() if ln.startswith("kiosk_info{"))
    assert f'kiosk="{kiosk_id}"' in line and f'version="{software_version()}"' in line
    assert f'config_hash="{config_hash(config)}"' in line and line.endswith(" 1.0")
    for secret in ("kiosk-svc", "S3cret-pass!", "scrypt"):
        assert secret not in text
