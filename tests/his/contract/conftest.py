"""Contract tests: the kiosk against every sandbox HIS profile, with both
queue-number strategies where they apply. Every request body the kiosk sends
during them is recorded (a recording transport under ``requests``) and
validated with an independent validator (``validate.py``) after each test."""
from __future__ import annotations

import pytest
import requests.adapters

from tests.his.contract.env import MATRIX, Env
from tests.his.contract.validate import body_problems

pytestmark = pytest.mark.integration


class Recorder:
    """Every request sent through ``requests`` to one FHIR base (method, url, headers, body)."""

    def __init__(self):
        self.base: str | None = None
        self.sent: list[tuple[str, str, dict, bytes | str | None]] = []
        self._send = requests.adapters.HTTPAdapter.send
        recorder = self

        def send(adapter, request, *args, **kwargs):
            if recorder.base and request.url.startswith(recorder.base):
                recorder.sent.append((request.method, request.url, dict(request.headers), request.body))
            return recorder._send(adapter, request, *args, **kwargs)

        self.patched = send

    def problems(self) -> list[str]:
        out = []
        for method, url, headers, body in self.sent:
            out += body_problems(method, url, headers, body)
        return out

    def bodies(self) -> list[tuple[str, str]]:
        return [(m, u) for m, u, _, b in self.sent if b]


@pytest.fixture(scope="session")
def recorder():
    rec = Recorder()
    mp = pytest.MonkeyPatch()
    mp.setattr(requests.adapters.HTTPAdapter, "send", rec.patched)
    yield rec
    mp.undo()


@pytest.fixture(scope="module", params=MATRIX, ids=[f"{p}-{q}" for p, q in MATRIX])
def env(request, tmp_path_factory, recorder):
    profile, queue = request.param
    e = Env(profile, queue, tmp_path_factory.mktemp(f"{profile}-{queue}"))
    recorder.base = e.sandbox.base_url
    yield e
    recorder.base = None
    e.close()


@pytest.fixture(autouse=True)
def bodies_are_valid(request, recorder):
    """After each contract test: every body the kiosk sent is valid R4."""
    recorder.sent.clear()
    yield
    if "env" in request.fixturenames:
        env = request.getfixturevalue("env")
        env.sandbox.clear_faults()
    problems = recorder.problems()
    assert problems == [], "\n".join(problems[:20])
