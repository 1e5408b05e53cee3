"""Check-in against the sandbox HIS: HTTP round trips per check-in kind for
every behaviour profile and queue-number strategy, and N kiosk processes
checking in at once (requests and retries per check-in, latency as a ratio to
one plain read).

Round trips are counted by the sandbox itself (``/__admin/stats``). "Steady
state" is a kiosk that has read the HIS's capabilities and departments and
knows the department's counter; the first check-in of a kiosk process (which
also reads /metadata, the departments, probes what /metadata leaves out and
finds the day's counter) is shown apart.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import requests

from app.sandbox import SandboxHis
from benchmarks.percentile import percentile
from fhir_his.his import FhirHis
from kiosk.checkin.online import CheckInService
from kiosk.clock import SystemClock
from kiosk.config.loader import config_from_dict
from kiosk.domain import Assurance, CheckInRequest, Identity, IdentitySource

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ["honest", "minimal", "no-revinclude", "no-versioning", "create-200", "no-search-mode",
            "no-transaction", "token", "production-like"]
WITHOUT_VERSIONS = {"no-versioning", "production-like"}
KIOSKS = (1, 2, 5, 10)
PER_KIOSK = 10
_serial = iter(range(1, 10**6))


def _identity() -> Identity:
    return Identity(citizen_id=f"0797{next(_serial):08d}", source=IdentitySource.CHIP,
                    assurance=Assurance.CHIP_VERIFIED, full_name="TRẦN THỊ ĐO", sex="female")


def _book(sandbox: SandboxHis, his: FhirHis, ident: Identity, dept: str) -> None:
    room = next(d for d in his.list_departments() if d.code == dept).rooms[0]
    start = SystemClock().now() + timedelta(minutes=20)
    s = his.his
    pid = f"urn:uuid:{uuid.uuid4()}"
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": pid, "request": {"method": "POST", "url": "Patient"}, "resource": {
            "resourceType": "Patient", "identifier": [{"system": s.cccd_system, "value": ident.citizen_id}],
            "name": [{"text": ident.full_name}]}},
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "request": {"method": "POST", "url": "Appointment"}, "resource": {
            "resourceType": "Appointment", "status": "booked", "start": start.isoformat(),
            "end": (start + timedelta(minutes=15)).isoformat(),
            "serviceType": [{"coding": [{"system": s.department_system, "code": dept}]}],
            "participant": [{"actor": {"reference": pid}, "status": "accepted"},
                            {"actor": {"reference": f"Location/{room.location_id}"}, "status": "accepted"}]}}]}
    requests.post(f"{sandbox.admin_url}/seed", json=bundle, timeout=30).raise_for_status()


def _config(sandbox: SandboxHis, queue: str, secret_dir: str):
    his = {"base_url": sandbox.base_url, "queue_numbers": queue}
    if sandbox.demo_client:
        path = Path(secret_dir) / "secret"
        path.write_text(sandbox.demo_client["client_secret"], encoding="utf-8")
        path.chmod(0o600)
        his.update(auth="client_credentials", client_id=sandbox.demo_client["client_id"], client_secret_file=str(path))
    return config_from_dict({"his": his})


def _counted(sandbox: SandboxHis, fn) -> int:
    sandbox.reset_stats()
    fn()
    return sandbox.stats()["requests"]


def round_trips(profile: str, queue: str) -> dict:
    with SandboxHis(profile=profile, queue_numbers="his" if queue == "his" else None) as sandbox, \
            tempfile.TemporaryDirectory() as secrets:
        cfg = _config(sandbox, queue, secrets)
        his = FhirHis(cfg)
        service = CheckInService(his, SystemClock(), cfg)
        day = SystemClock().now().date()
        checkin = lambda ident, dept=None: service.check_in(CheckInRequest(str(uuid.uuid4()), ident, dept))  # noqa: E731
        first = _counted(sandbox, lambda: checkin(_identity(), "NOI"))  # cold: a new kiosk process
        booked_ident = _identity()
        _book(sandbox, his, booked_ident, "NOI")
        booked = _counted(sandbox, lambda: checkin(booked_ident))
        existing = _identity()
        checkin(existing, "NOI")  # now in the HIS
        walk_in = _counted(sandbox, lambda: (his.waiting_counts(day), checkin(existing, "NOI")))
        new = _counted(sandbox, lambda: checkin(_identity(), "NOI"))
        tokens = sandbox.stats()["tokenRequests"]["total"]
        his.close()
    return {"profile": profile, "queue": queue, "booked": booked, "walk_in": walk_in, "new": new, "first": first,
            "tokens": tokens}


def one_read_latency(sandbox: SandboxHis, n: int = 60) -> float:
    """Median of a plain ``GET Patient?identifier=…`` (the baseline)."""
    cfg = config_from_dict({"his": {"base_url": sandbox.base_url}})
    s = requests.Session()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        s.get(f"{sandbox.base_url}/Patient", params={"identifier": f"{cfg.his.cccd_system}|001093012345"},
              headers={"Accept": "application/fhir+json"}, timeout=10).raise_for_status()
        times.append(time.perf_counter() - started)
    s.close()
    return statistics.median(times)


def concurrent(queue: str, kiosks: int) -> dict:
    with SandboxHis(queue_numbers="his" if queue == "his" else None) as sandbox:
        base = one_read_latency(sandbox)
        procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.checkin_worker", sandbox.base_url,
                                   f"KIOSK-{i + 1}", str(PER_KIOSK), "RHM", queue], cwd=ROOT, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
                 for i in range(kiosks)]
        try:
            for p in procs:
                assert p.stdout.readline().strip() == "ready"
            sandbox.reset_stats()
            for p in procs:
                p.stdin.write("go\n")
                p.stdin.flush()
            outs = [p.communicate(timeout=600)[0] for p in procs]
        finally:
            for p in procs:
                p.kill()
        server = sandbox.stats()
    rows = [json.loads(line) for out in outs for line in out.splitlines() if line.startswith("{")]
    labels = [r["label"] for r in rows]
    lat = [r["latency_s"] for r in rows]
    return {"queue": queue, "kiosks": kiosks, "checkins": len(rows), "unique": len(set(labels)) == len(labels),
            "requests": server["requests"] / max(1, len(rows)), "retries": sum(r["retries"] for r in rows) / max(1, len(rows)),
            "conflicts": server["byStatus"].get("412", 0), "p50": percentile(lat, 0.5) / base, "p95": percentile(lat, 0.95) / base,
            "base_ms": base * 1000}


def run() -> str:
    trips = [round_trips(p, q) for p in PROFILES for q in ("counter", "his") if not (q == "counter" and p in WITHOUT_VERSIONS)]
    table = "\n".join(f"| {t['profile']} | {t['queue']} | {t['booked']} | {t['walk_in']} | {t['new']} | {t['first']} |"
                      for t in trips)
    honest = {t["queue"]: t for t in trips if t["profile"] == "honest"}
    conc = [concurrent(q, n) for q in ("counter", "his") for n in KIOSKS]
    ctable = "\n".join(
        f"| {c['queue']} | {c['kiosks']} | {c['checkins']} | {'yes' if c['unique'] else 'NO'} | {c['requests']:.2f} | "
        f"{c['retries']:.2f} | {c['conflicts']} | {c['p50']:.1f}× | {c['p95']:.1f}× |" for c in conc)
    base_ms = statistics.median(c["base_ms"] for c in conc)
    return f"""## Check-in against the sandbox HIS: round trips per profile, kiosks at once (issue 13)

HTTP requests counted by the sandbox server itself (`/__admin/stats`), per check-in, for every behaviour
profile and queue-number strategy (`his.queue_numbers`; the counter is refused where the HIS keeps no
versions). *Walk-in* includes the department screen's waiting counts (one search); *first* is the first
check-in of a kiosk process (it also reads `/metadata`, the departments, probes what `/metadata` leaves out
and finds the day's counter). The token profile's one token request per token lifetime is not counted.

| profile | queue numbers | booked | walk-in, existing patient (+ waiting counts) | new patient | first of the process |
|---|---|---|---|---|---|
{table}

Honest HIS, steady state: booked {honest['counter']['booked']} / walk-in {honest['counter']['walk_in']} / new patient
{honest['counter']['new']} round trips with the kiosks' counter, {honest['his']['booked']} / {honest['his']['walk_in']} /
{honest['his']['new']} when the HIS numbers visits (targets: booked ≤ 3, walk-in ≤ 4).

{PER_KIOSK} walk-in check-ins per kiosk process, all processes starting together into one department
(one sandbox, honest profile; the sandbox handles one request at a time). Requests and retries per
check-in (retries: requests sent again — 412 on the counter, 5xx, renewed sign-in); latency as a ratio
to one plain `GET Patient?identifier=…` (median {base_ms:.1f} ms in these runs):

| queue numbers | kiosks | check-ins | numbers unique | requests / check-in | retries / check-in | 412 conflicts | p50 | p95 |
|---|---|---|---|---|---|---|---|---|
{ctable}

With the counter, kiosks checking in at the same moment conflict on the department's counter and retry
(each retry is one re-read and one update); when the HIS numbers the visits nothing is shared and
nothing is retried. The sandbox is an in-memory engine on loopback: the round-trip counts are the
portable figure, the ratios show how waiting grows with the number of kiosks.
"""
