"""Session fixtures: the sandbox HIS, started and stopped by the tests (random
port); and the check that nothing the suite started outlives it (tests/leaks.py):
at the end of the session every survivor is named, killed, and fails the run."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import leaks  # noqa: E402 - after the path is set

SESSION_MARK = leaks.mark_session()  # before any test starts a process: they all inherit it


def _places(session) -> list:
    places = [ROOT]
    factory = getattr(session.config, "_tmp_path_factory", None)
    try:
        places.append(factory.getbasetemp() if factory else None)
    except (OSError, ValueError):
        pass
    return places


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    leaks.run_session_end()
    left = leaks.wait_for_none(SESSION_MARK, _places(session))
    if not left:
        return
    names = ", ".join(p.describe() for p in left)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    line = f"processes left running by the tests (now killed): {names}"
    if reporter:
        reporter.write_sep("=", "left running", red=True)
        reporter.write_line(line)
    else:
        print(line, file=sys.stderr)
    leaks.stop(left)
    if session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
