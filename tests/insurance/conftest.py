"""The gateway simulator (python -m sandbox_bhxh), started by the tests on a
random loopback port, and gateways configured for it."""
from __future__ import annotations

import pytest

from app.sandbox import GatewaySimulator
from bhxh_gateway import BhxhGateway
from tests.insurance.support import config_at, insurance_config


@pytest.fixture(scope="session")
def simulator():
    """One simulator for tests that do not count its requests or change its mode."""
    with GatewaySimulator() as sim:
        yield sim


@pytest.fixture
def fresh_simulator():
    """A simulator of the test's own (request counts, slow/down modes, short token life)."""
    with GatewaySimulator(token_ttl_s=600) as sim:
        yield sim


@pytest.fixture
def gateway_for(tmp_path):
    """gateway_for(sim, **insurance_overrides) -> a BhxhGateway, closed after the test."""
    made = []

    def make(sim, *, clock=None, monotonic=None, session_factory=None, **overrides):
        """``sim``: a GatewaySimulator, or the base URL of another test server."""
        config = (config_at(sim, tmp_path, **overrides) if isinstance(sim, str)
                  else insurance_config(sim, tmp_path, **overrides))
        kw = {"clock": clock} if clock else {}
        if monotonic:
            kw["monotonic"] = monotonic
        if session_factory:
            kw["session_factory"] = session_factory
        gateway = BhxhGateway(config.insurance, **kw)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()
