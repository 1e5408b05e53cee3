"""Several kiosk processes sharing one HIS never hand out the same number."""
from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import requests

from fhir_his.mapping import extensions
from kiosk.config.loader import HisSection

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
KIOSKS = 2
PER_KIOSK = 100  # 200 check-ins in all


def test_concurrent_kiosks_get_unique_gapless_numbers(fresh_sandbox):
    procs = [subprocess.Popen([sys.executable, "-m", "tests.his.race_worker", fresh_sandbox.base_url,
                               f"K{i}", str(PER_KIOSK), "RHM"], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for i in range(KIOSKS)]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        outputs = [p.communicate(timeout=240)[0] for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert all(p.returncode == 0 for p in procs)
    numbers = [int(x) for out in outputs for x in out.split()]
    per_kiosk = [len(out.split()) for out in outputs]
    assert per_kiosk == [PER_KIOSK] * KIOSKS
    duplicates = [n for n, c in Counter(numbers).items() if c > 1]
    assert duplicates == []
    assert sorted(numbers) == list(range(1, KIOSKS * PER_KIOSK + 1))  # no failures, so no gaps
    # and the HIS agrees: every Encounter carries its own number
    encs = requests.get(f"{fresh_sandbox.base_url}/Encounter", timeout=30,
                        params={"_count": "1000"}).json().get("entry", [])
    labels = [next(x["valueString"] for x in e["resource"]["extension"] if x["url"] == extensions(HisSection()).queue_label)
              for e in encs if e["resource"]["serviceType"]["coding"][0]["code"] == "RHM"]
    assert len(labels) == len(set(labels)) == KIOSKS * PER_KIOSK
