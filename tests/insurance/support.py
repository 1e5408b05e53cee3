"""Helpers of the insurance tests: the simulator's test cards and configs."""
from __future__ import annotations

from datetime import date

from app.sandbox import GatewaySimulator
from kiosk.config.loader import config_from_dict
from sandbox_bhxh.cards import TEST_BIRTH, TEST_NAME, YEAR_ONLY_BIRTH, YEAR_ONLY_NAME, number_for_code

TEST_DOB = date(int(TEST_BIRTH[6:]), int(TEST_BIRTH[3:5]), int(TEST_BIRTH[:2]))


def holder(code: str) -> tuple[str, str, date | int]:
    """(card number, name, birth date) of the simulator's test card for ``code``."""
    if code == "901":
        return number_for_code(code), YEAR_ONLY_NAME, int(YEAR_ONLY_BIRTH)
    return number_for_code(code), TEST_NAME, TEST_DOB


def insurance_config(sim: GatewaySimulator, secret_dir, **overrides):
    settings = sim.insurance_settings(secret_dir, timeout_s=5.0)
    settings.update(overrides)
    return config_from_dict({"insurance": settings}, source="(test)")


def config_at(base_url: str, secret_dir, **overrides):
    """A config for a gateway at ``base_url`` that speaks the protocol with
    the simulator's credentials (a misbehaving test server)."""
    return insurance_config(GatewaySimulator(), secret_dir, base_url=base_url, **overrides)
