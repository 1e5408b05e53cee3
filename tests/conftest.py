"""Session fixtures: the sandbox HIS, started and stopped by the tests (random port)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def his_sandbox():
    """A seeded sandbox HIS shared by the session. Tests that must not see
    other tests' visits use their own department/day or `fresh_sandbox`."""
    from app.sandbox import SandboxHis

    sandbox = SandboxHis(port=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def fresh_sandbox():
    """A sandbox HIS of the test's own (for tests that stop it or count requests)."""
    from app.sandbox import SandboxHis

    sandbox = SandboxHis(port=0).start()
    yield sandbox
    sandbox.stop()
