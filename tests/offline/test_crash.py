"""Real failures: kill -9 of the kiosk process while it enqueues and while it
syncs, injected 503s, a refused connection — then every check-in must be in the
HIS exactly once (checked by searching the HIS, not by trusting responses)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fhir_his.his import FhirHis
from tests.helpers import free_port
from tests.offline.driver import checkin_id
from tests.offline.helpers import FAST, Parts, db_rows, encounters_by_checkin, identity, offline_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 240


def write_config(path: Path, data_dir: Path, base_url: str) -> Path:
    path.write_text(json.dumps({
        "kiosk": {"id": "KIOSK-07", "data_dir": str(data_dir)},
        "his": {"base_url": base_url, "connect_timeout_s": 1.0, "read_timeout_s": 5.0},
        "offline": FAST,
    }), encoding="utf-8")
    return path


class Driver:
    """The driver script as a subprocess whose stdout lines are collected."""

    def __init__(self, config: Path, *args: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.offline.driver", str(config), *args],
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def acks(self) -> list[tuple[int, str, str]]:
        return [(int(p[1]), p[2], p[3]) for p in (ln.split() for ln in list(self.lines)) if p[0] == "ack"]

    def kill_when(self, condition, timeout: float = 120.0) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            if condition():
                self.proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        return self.wait(timeout)

    def wait(self, timeout: float = 180.0) -> int:
        rc = self.proc.wait(timeout)
        self._reader.join(5)
        self.stderr = self.proc.stderr.read()
        return rc


def delivered(db_path) -> int:
    return db_rows(db_path, "SELECT count(*) FROM outbox WHERE state = 'delivered'")[0][0]


@pytest.mark.timeout(900)  # the sandbox's writes slow down as it fills: ~3 min on a busy 2-core machine
def test_kill_9_during_enqueue_and_sync_every_check_in_arrives_exactly_once(tmp_path, fresh_sandbox):
    data = tmp_path / "data"
    online_cfg = offline_config(data, fresh_sandbox.base_url, kiosk_id="KIOSK-07")
    seed = Parts(online_cfg)  # the kiosk was online once: reference data cached
    assert seed.prober.refresh_reference(force=True)
    seed.close()
    db_path = online_cfg.database_path()
    down = write_config(tmp_path / "down.json", data, f"http://127.0.0.1:{free_port()}/fhir/R4")
    up = write_config(tmp_path / "up.json", data, fresh_sandbox.base_url)

    # 1. Killed inside the 40th outbox transaction (both rows written, no COMMIT).
    acked: dict[int, tuple[str, str]] = {}
    d = Driver(down, "enqueue", "0", "100", "--die-in-transaction", "40")
    assert d.wait() == -signal.SIGKILL, d.stderr
    acked.update({i: (cid, label) for i, cid, label in d.acks()})
    assert sorted(acked) == list(range(39)) and d.acks()[0][2].startswith("K7-")
    assert not db_rows(db_path, "SELECT 1 FROM checkins WHERE checkin_id = ?", (checkin_id(39),))
    assert not db_rows(db_path, "SELECT 1 FROM outbox WHERE checkin_id = ?", (checkin_id(39),))

    # 2. Killed from outside at an arbitrary moment, twice; then run to the end.
    for kill_after in (60, 70, None):
        start = max(acked) + 1  # the unacknowledged one is retried with the same check-in id
        d = Driver(down, "enqueue", str(start), str(TOTAL - start))
        rc = d.wait() if kill_after is None else d.kill_when(lambda: len(d.acks()) >= kill_after)
        assert rc == (0 if kill_after is None else -signal.SIGKILL), d.stderr
        acked.update({i: (cid, label) for i, cid, label in d.acks()})
    assert sorted(acked) == list(range(TOTAL))

    # Every acknowledged ticket is durable, exactly as printed; no half-written check-in.
    local = dict(db_rows(db_path, "SELECT checkin_id, queue_label FROM checkins"))
    queued = {r[0] for r in db_rows(db_path, "SELECT checkin_id FROM outbox")}
    assert set(local) == queued == {cid for cid, _ in acked.values()}
    assert all(local[cid] == label for cid, label in acked.values())
    assert len(set(local.values())) == TOTAL  # no offline number given twice

    # 3. Sync killed right after a visit reached the HIS, before it was marked delivered.
    d = Driver(up, "sync", "--die-after-write", "30")
    assert d.wait() == -signal.SIGKILL, d.stderr
    assert delivered(db_path) >= 25
    assert db_rows(db_path, "SELECT count(*) FROM outbox WHERE state = 'sending'")[0][0] >= 1

    # 4. The HIS answers 503 for a while; the sync is killed again mid-way.
    fresh_sandbox.set_faults(fail_status=503, fail_count=15)
    d = Driver(up, "sync")
    assert d.kill_when(lambda: delivered(db_path) >= 120) == -signal.SIGKILL, d.stderr
    assert delivered(db_path) < TOTAL

    # 5. A last run finishes the job.
    d = Driver(up, "sync")
    assert d.wait() == 0, d.stderr
    assert d.lines[-1] == "done"
    assert delivered(db_path) == TOTAL

    # In the HIS (asked, not assumed): one visit per check-in, one patient per person.
    his = FhirHis(online_cfg)
    counts = encounters_by_checkin(his, [cid for cid, _ in acked.values()])
    assert sorted(set(counts.values())) == [1], {k: v for k, v in counts.items() if v != 1}
    system = online_cfg.his.cccd_system
    ids = sorted({identity(5000 + i % 97).citizen_id for i in range(TOTAL)})
    patients = []
    for i in range(0, len(ids), 40):
        found, _ = his.client.search("Patient", {"identifier": ",".join(f"{system}|{c}" for c in ids[i:i + 40]),
                                                 "_count": "200"})
        patients += found
    assert len(patients) == len(ids) == 97
    # Each patient's visits were delivered in the order they were queued.
    rows = db_rows(db_path, "SELECT patient_key, id, delivered_at FROM outbox ORDER BY patient_key, id")
    by_patient: dict[str, list[float]] = {}
    for key, _, at in rows:
        by_patient.setdefault(key, []).append(at)
    assert all(ts == sorted(ts) for ts in by_patient.values())
    his.client.close()


def test_refused_connection_then_his_back_on_the_same_port(tmp_path):
    """The whole wiring (threads included): HIS stopped → offline tickets;
    a new HIS on the same port → the probe and the sender deliver by themselves."""
    from app.compose import build_kiosk
    from app.sandbox import SandboxHis
    from kiosk.ports import MODE_OFFLINE, MODE_ONLINE
    from tests.helpers import request_for

    first = SandboxHis(port=0).start()
    port = first.port
    second = None
    services = None
    try:
        config = offline_config(tmp_path, first.base_url)
        services = build_kiosk(config, with_devices=False)
        parts = services.outbox
        modes = []
        services.connectivity.subscribe(modes.append)
        end = time.monotonic() + 20
        while not parts.reference.departments() and time.monotonic() < end:
            time.sleep(0.05)
        assert parts.reference.departments(), "the probe caches the reference data while online"
        assert services.checkin.check_in(request_for(identity(900), "NOI")).mode == "online"

        first.stop()  # connection refused from now on
        offline = [services.checkin.check_in(request_for(identity(901 + i), "NHI")) for i in range(5)]
        assert [r.mode for r in offline] == ["offline"] * 5 and all(r.ticket.offline for r in offline)
        assert services.connectivity.mode() == MODE_OFFLINE
        assert [d.code for d in services.departments()]  # the picker still works, from the cache

        second = SandboxHis(port=port).start()  # starts empty + seeded: only the offline visits matter
        end = time.monotonic() + 30
        while (parts.store.backlog() or services.connectivity.mode() != MODE_ONLINE) and time.monotonic() < end:
            time.sleep(0.05)
        assert parts.store.backlog() == 0 and modes[-1] == MODE_ONLINE and MODE_OFFLINE in modes
        his = FhirHis(config)
        counts = encounters_by_checkin(his, [r.ticket.reference for r in offline])
        assert set(counts.values()) == {1}
        assert [his.find_visit(r.ticket.reference).queue_label for r in offline] == [r.ticket.label for r in offline]
        his.client.close()
    finally:
        if services:
            services.close()
        first.stop()
        if second:
            second.stop()
