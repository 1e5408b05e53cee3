"""Admin PIN: scrypt hash, verification, lockout after repeated failures."""
from __future__ import annotations

import pytest

from kiosk.config.loader import AdminSection
from kiosk.operations.admin_pin import PinError, PinGate, hash_pin, verify_pin


class FakeClock:
    def __init__(self):
        self.t = 1_000_000.0

    def __call__(self):
        return self.t


def test_hash_verifies_only_the_same_pin_and_is_salted():
    h = hash_pin("2468")
    assert h.startswith("scrypt$") and "2468" not in h
    assert verify_pin("2468", h) and not verify_pin("2469", h)
    assert hash_pin("2468") != h


@pytest.mark.parametrize("pin", ["123", "1234567890123", "12a4", "", "١٢٣٤"])
def test_pin_format_is_checked(pin):
    with pytest.raises(PinError):
        hash_pin(pin)


def test_unreadable_hash_is_an_error_naming_the_key():
    with pytest.raises(PinError, match="admin.pin_hash"):
        verify_pin("1234", "plain-text-pin")


def test_lockout_after_max_attempts_refuses_even_the_right_pin(tmp_path):
    clock = FakeClock()
    section = AdminSection(pin_hash=hash_pin("2468"), max_attempts=3, lockout_s=60)
    gate = PinGate(section, state_file=tmp_path / "pin.json", clock=clock)
    assert gate.try_pin("0000").reason == "wrong" and gate.attempts_left() == 2
    assert gate.try_pin("1111").attempts_left == 1
    locked = gate.try_pin("2222")
    assert locked.reason == "locked" and locked.locked_for_s == 60
    assert gate.try_pin("2468").reason == "locked"
    # a restart (new gate on the same state file) keeps the lockout
    again = PinGate(section, state_file=tmp_path / "pin.json", clock=clock)
    clock.t += 30
    assert again.try_pin("2468").reason == "locked" and again.locked_for() == pytest.approx(30)
    clock.t += 31
    assert again.try_pin("2468").ok
    assert again.attempts_left() == 3


def test_success_resets_the_failure_count():
    gate = PinGate(AdminSection(pin_hash=hash_pin("2468"), max_attempts=3), clock=FakeClock())
    gate.try_pin("0000")
    gate.try_pin("0000")
    assert gate.try_pin("2468").ok
    assert gate.try_pin("0000").attempts_left == 2


def test_no_pin_configured_never_opens():
    gate = PinGate(AdminSection(pin_hash=""))
    assert gate.try_pin("").reason == "no_pin" and not gate.try_pin("1234").ok
