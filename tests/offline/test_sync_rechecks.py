"""`kiosk sync` also finishes the BHYT checks the kiosk could not make: a
card whose check waited in the recheck queue (the gateway was down during the
check-in) is asked again and its Coverage written with the visit, once."""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from app.sandbox import GatewaySimulator, SandboxHis
from kiosk.config.loader import load_config
from kiosk.domain import VisitCoverage
from offline_cache.insurance_queue import InsuranceQueue
from offline_cache.integrity import open_database
from tests.insurance.support import holder
from tests.offline.test_cli import kiosk

pytestmark = pytest.mark.integration


def toml_table(name: str, values: dict) -> str:
    return f"[{name}]\n" + "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in values.items())


def coverages(base_url: str) -> list[dict]:
    bundle = requests.get(f"{base_url}/Coverage", params={"_count": "50"}, timeout=10).json()
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "Coverage"]


def test_sync_runs_the_bhyt_rechecks_and_writes_the_coverage_once(tmp_path):
    card, name, born = holder("000")
    with SandboxHis(port=0) as his, GatewaySimulator() as gateway:
        config_path = tmp_path / "kiosk.toml"
        config_path.write_text(
            toml_table("kiosk", {"id": "KIOSK-05", "data_dir": str(tmp_path / "data")})
            + toml_table("his", {"base_url": his.base_url, "connect_timeout_s": 1.0})
            + toml_table("insurance", gateway.insurance_settings(tmp_path, timeout_s=5.0)), encoding="utf-8")
        checkin_id = str(uuid.uuid4())
        r = kiosk(config_path, "checkin", "--json", "--id", card, "--name", name, "--dob", born.isoformat(),
                  "--department", "NOI", "--checkin-id", checkin_id)
        assert r.returncode == 0, r.stderr
        assert coverages(his.base_url) == []

        # What the kiosk's screen left behind when the gateway did not answer in time.
        config = load_config(str(config_path))
        database = open_database(config)
        try:
            assert InsuranceQueue(database, config.kiosk.id).enqueue(
                checkin_id, VisitCoverage(None, card, name, born), "check: the gateway answered HTTP 503")
        finally:
            database.close()

        r = kiosk(config_path, "sync", "--json")
        assert r.returncode == 0, r.stderr
        rechecks = json.loads(r.stdout)["bhyt_rechecks"]
        assert rechecks["written"] == 1 and rechecks["waiting"] == 0
        [coverage] = coverages(his.base_url)
        assert coverage["status"] == "active"
        assert card not in r.stdout and name not in r.stdout  # IT's output names no patient

        r = kiosk(config_path, "sync")
        assert r.returncode == 0, r.stderr
        assert len(coverages(his.base_url)) == 1  # nothing twice
        assert "BHYT rechecks" not in r.stdout  # nothing left to recheck
