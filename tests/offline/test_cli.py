"""The commands IT uses, run as real processes: `kiosk checkin` with the HIS
stopped prints an offline ticket; `kiosk sync` delivers it once when the HIS is
back; `kiosk outbox list/retry/purge`; `kiosk doctor` shows the outbox."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.sandbox import SandboxHis
from fhir_his.his import FhirHis
from tests.offline.helpers import encounters_by_checkin, offline_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def kiosk(config: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, KIOSK_CONFIG=str(config))
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_checkin_with_his_stopped_then_sync_delivers_once(tmp_path):
    first = SandboxHis(port=0).start()
    port = first.port
    second = None
    try:
        config = tmp_path / "kiosk.toml"
        config.write_text(f"""
[kiosk]
id = "KIOSK-04"
data_dir = "{tmp_path / 'data'}"
[his]
base_url = "{first.base_url}"
connect_timeout_s = 1.0
[offline]
go_offline_after_s = 2.0
""", encoding="utf-8")
        r = kiosk(config, "sync", "--json")  # online: caches the reference data, nothing to send
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["his_reachable"] is True

        first.stop()
        r = kiosk(config, "checkin", "--id", "079099000777", "--name", "ĐỖ THỊ LAN", "--department", "NOI")
        assert r.returncode == 0, r.stderr
        assert "K4-001" in r.stdout and "OFFLINE" in r.stdout and "[mode: offline]" in r.stdout
        r = kiosk(config, "checkin", "--json", "--id", "079099000778", "--department", "MAT")
        result = json.loads(r.stdout)
        assert result["mode"] == "offline" and result["ticket"]["offline"] and result["ticket"]["label"] == "K4-002"

        r = kiosk(config, "outbox", "list", "--json")
        listing = json.loads(r.stdout)
        assert listing["summary"]["counts"]["pending"] == 2
        assert listing["summary"]["reference_cache"]["departments"] > 0
        assert listing["summary"]["last_mode_change"]["mode"] == "offline"
        assert "079099000777" not in r.stdout and "LAN" not in r.stdout  # no personal data for IT screens
        r = kiosk(config, "outbox", "list")
        assert "2 waiting" in r.stdout and "K4-001" in r.stdout and "refreshed" in r.stdout
        r = kiosk(config, "sync")
        assert r.returncode == 1 and "not reachable" in r.stdout

        second = SandboxHis(port=port).start()  # the HIS is back (same address, fresh data)
        r = kiosk(config, "sync", "--json")
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        assert report["delivered"] == 2 and report["waiting"] == 0
        r = kiosk(config, "sync", "--json")
        assert json.loads(r.stdout)["delivered"] == 0  # nothing twice
        refs = [e["checkin_id"] for e in listing["entries"]]
        his = FhirHis(offline_config(tmp_path / "x", second.base_url))
        assert encounters_by_checkin(his, refs) == {ref: 1 for ref in refs}
        his.client.close()

        r = kiosk(config, "outbox", "list", "--json", "--state", "delivered")
        assert {e["his_queue_label"] for e in json.loads(r.stdout)["entries"]} == {"K4-001", "K4-002"}
        r = kiosk(config, "outbox", "retry", "999")
        assert r.returncode == 1 and "no dead or waiting entry" in r.stderr
        r = kiosk(config, "outbox", "purge")
        assert "0 delivered entries" in r.stdout  # within offline.retention_hours
        r = kiosk(config, "outbox", "purge", "--all")
        assert "2 delivered entries" in r.stdout
        r = kiosk(config, "doctor", "--json")
        checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
        assert checks["outbox.dead_letters"]["status"] == "OK"
        assert checks["outbox.reference_cache"]["status"] == "OK"
        assert checks["outbox.offline_numbers"]["detail"].startswith("slot 4")
    finally:
        first.stop()
        if second:
            second.stop()
