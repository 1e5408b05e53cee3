"""Personal data is kept only as long as `offline.retention_hours` says, by every
process that opens the outbox — `kiosk sync`, `kiosk checkin`, `kiosk outbox …`,
the running kiosk — and `kiosk doctor` FAILs on rows kept past it (real
processes, a real sandbox HIS, the real SQLite file)."""
from __future__ import annotations

import json
import sqlite3
import time

import pytest

from app.sandbox import SandboxHis
from tests.offline.test_cli import kiosk

pytestmark = pytest.mark.integration

DAY = 24 * 3600


def _write_config(tmp_path, base_url: str, retention_hours: float = 1.0):
    config = tmp_path / "kiosk.toml"
    config.write_text(f"""
[kiosk]
id = "KIOSK-05"
data_dir = "{tmp_path / 'data'}"
[his]
base_url = "{base_url}"
connect_timeout_s = 1.0
[offline]
go_offline_after_s = 2.0
retention_hours = {retention_hours}
""", encoding="utf-8")
    return config


def _rows(db) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT o.checkin_id, o.payload IS NULL, o.purged_at IS NOT NULL,"
                            " json_extract(c.ticket, '$.masked_name') FROM outbox o JOIN checkins c"
                            " USING (checkin_id) ORDER BY o.id").fetchall()


def _age_deliveries(db, seconds: float) -> None:
    """As if the deliveries had happened ``seconds`` ago (no clock is changed)."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE outbox SET delivered_at = delivered_at - ? WHERE state = 'delivered'", (seconds,))


def _deliver_one(tmp_path, config, his, port, name: str, cid: str) -> SandboxHis:
    """One offline check-in (HIS stopped), delivered by `kiosk sync` once the HIS is back."""
    his.stop()
    r = kiosk(config, "checkin", "--id", cid, "--name", name, "--department", "NOI")
    assert r.returncode == 0 and "[mode: offline]" in r.stdout, r.stderr
    back = SandboxHis(port=port).start()
    r = kiosk(config, "sync", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["delivered"] >= 1, r.stderr
    return back


@pytest.mark.parametrize("opener", [["sync", "--json"], ["outbox", "list", "--json"],
                                    ["checkin", "--json", "--id", "079199000555", "--department", "MAT"]])
def test_every_process_that_opens_the_outbox_blanks_what_is_past_retention(tmp_path, opener):
    his = SandboxHis(port=0).start()
    port = his.port
    try:
        config = _write_config(tmp_path, his.base_url, retention_hours=1.0)
        assert kiosk(config, "sync", "--json").returncode == 0  # the reference data, online
        his = _deliver_one(tmp_path, config, his, port, "ĐỖ THỊ LAN", "079099000777")
        db = tmp_path / "data" / "kiosk.sqlite3"
        [(cid, blank, purged, masked)] = _rows(db)
        assert not blank and not purged and masked  # delivered just now: still within the hour

        _age_deliveries(db, 2 * 3600)  # two hours ago: past offline.retention_hours = 1
        doctor = kiosk(config, "doctor", "--json")
        checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
        assert checks["outbox.retention"]["status"] == "FAIL", checks["outbox.retention"]
        assert "1 delivered check-in(s)" in checks["outbox.retention"]["detail"]
        assert "LAN" not in doctor.stdout and "079099000777" not in doctor.stdout

        r = kiosk(config, *opener)  # any command that opens the outbox, not only the long-running sender
        assert r.returncode == 0, r.stderr
        row = next(r for r in _rows(db) if r[0] == cid)
        assert row[1:] == (1, 1, ""), row  # payload gone, marked purged, the masked name blanked
        with sqlite3.connect(db) as conn:
            payloads = " ".join(str(p) for (p,) in conn.execute("SELECT payload FROM outbox").fetchall())
        assert "079099000777" not in payloads and "LAN" not in payloads

        doctor = kiosk(config, "doctor", "--json")
        checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
        assert checks["outbox.retention"]["status"] == "OK", checks["outbox.retention"]
    finally:
        his.stop()


def test_what_is_within_retention_is_kept_and_what_is_waiting_is_never_blanked(tmp_path):
    his = SandboxHis(port=0).start()
    port = his.port
    try:
        config = _write_config(tmp_path, his.base_url, retention_hours=24.0)
        assert kiosk(config, "sync", "--json").returncode == 0
        his = _deliver_one(tmp_path, config, his, port, "ĐỖ THỊ LAN", "079099000777")
        his.stop()
        r = kiosk(config, "checkin", "--id", "079099000778", "--department", "NOI")  # waits for the HIS
        assert "[mode: offline]" in r.stdout, r.stderr
        db = tmp_path / "data" / "kiosk.sqlite3"
        with sqlite3.connect(db) as conn:  # both rows as old as can be: only the delivered one may go
            conn.execute("UPDATE outbox SET created_at = created_at - ?", (30 * DAY,))
        _age_deliveries(db, 12 * 3600)  # 12 h ago: within 24 h
        kiosk(config, "outbox", "list")
        assert [r[1] for r in _rows(db)] == [0, 0]  # nothing blanked: one within retention, one not delivered
        _age_deliveries(db, 13 * 3600)  # now 25 h ago
        kiosk(config, "outbox", "list")
        assert [r[1] for r in _rows(db)] == [1, 0]  # the waiting check-in keeps what it must still deliver
        assert time.time()  # (no clock was changed anywhere)
    finally:
        his.stop()
