"""Admin PIN: the rule (6-12 digits, not trivial), the scrypt hash and its
format mark, a lockout that grows with each round and survives restarts, and
the metrics of failed attempts."""
from __future__ import annotations

import base64
import hashlib
import json
import logging

import pytest

from kiosk.config.loader import AdminSection
from kiosk.operations import metrics
from kiosk.operations.admin_pin import (
    PinError,
    PinGate,
    check_pin_format,
    hash_pin,
    hash_problem,
    pin_problem,
    verify_pin,
)

PIN = "730518"


class FakeClock:
    def __init__(self):
        self.t = 1_000_000.0

    def __call__(self):
        return self.t


def legacy_hash(pin: str) -> str:
    """A hash as the old set-pin made it (scheme ``scrypt``, 4 digits accepted)."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_hash_verifies_only_the_same_pin_is_salted_and_marks_the_rule():
    h = hash_pin(PIN)
    assert h.startswith("scrypt-p2$") and PIN not in h
    assert verify_pin(PIN, h) and not verify_pin("730519", h)
    assert hash_pin(PIN) != h
    assert hash_problem(h) is None


@pytest.mark.parametrize("pin", ["123", "2468", "12345", "1234567890123", "12a456", "", "١٢٣٤٥٦", "73051８"])
def test_pin_format_is_checked(pin):
    with pytest.raises(PinError, match="6-12 digits"):
        hash_pin(pin)


@pytest.mark.parametrize("pin", ["000000", "999999999", "123456", "987654", "890123", "210987", "135791",
                                 "24680246", "121212", "123123", "12341234", "909090909090", "007007"])
def test_trivial_pins_are_refused(pin):
    # a fixed reason, never built from the PIN
    assert pin_problem(pin) in ("digits in one constant step (like 111111, 123456 or 987654) are guessed first",
                                "a repeated group of digits (like 121212 or 123123) is guessed first")
    with pytest.raises(PinError):
        check_pin_format(pin)


@pytest.mark.parametrize("pin", ["730518", "583062", "1234568", "123457", "112233", "100000", "271828182845"])
def test_other_pins_are_accepted(pin):
    assert pin_problem(pin) is None


def test_unreadable_hash_is_an_error_naming_the_key():
    with pytest.raises(PinError, match="admin.pin_hash"):
        verify_pin("123456", "plain-text-pin")
    assert "admin.pin_hash" in hash_problem("plain-text-pin")


def test_a_legacy_4_digit_hash_still_opens_but_is_reported_too_weak():
    old = legacy_hash("2468")
    assert verify_pin("2468", old)
    assert "too weak" in hash_problem(old)
    gate = PinGate(AdminSection(pin_hash=old), clock=FakeClock())
    assert gate.try_pin("2468").ok
    weak_params = hash_pin(PIN).replace("$16384$", "$1024$", 1)
    assert "too weak" in hash_problem(weak_params)
    assert hash_problem("") is None  # no PIN: the doctor's own warning


def test_lockout_after_max_attempts_refuses_even_the_right_pin_and_survives_a_restart(tmp_path):
    clock = FakeClock()
    section = AdminSection(pin_hash=hash_pin(PIN), max_attempts=3, lockout_s=60)
    gate = PinGate(section, state_file=tmp_path / "pin.json", clock=clock)
    assert gate.try_pin("000000").reason == "wrong" and gate.attempts_left() == 2
    assert gate.next_lockout_s() == 60
    assert gate.try_pin("111111").attempts_left == 1
    locked = gate.try_pin("222222")
    assert locked.reason == "locked" and locked.locked_for_s == 60
    assert gate.try_pin(PIN).reason == "locked"
    # a restart (new gate on the same state file) keeps the lockout
    again = PinGate(section, state_file=tmp_path / "pin.json", clock=clock)
    clock.t += 30
    assert again.try_pin(PIN).reason == "locked" and again.locked_for() == pytest.approx(30)
    assert again.current_lockout_s() == 60
    clock.t += 31
    assert again.try_pin(PIN).ok
    assert again.attempts_left() == 3 and again.rounds == 0


def test_each_round_locks_longer_up_to_the_cap_even_across_restarts(tmp_path):
    clock = FakeClock()
    section = AdminSection(pin_hash=hash_pin(PIN), max_attempts=5, lockout_s=60, lockout_max_s=3600)
    state = tmp_path / "data" / "admin-pin-state.json"
    lengths = []
    for _ in range(6):
        gate = PinGate(section, state_file=state, clock=clock)  # a restart before every round
        for i in range(5):
            result = gate.try_pin(f"{i}91827")
        assert result.reason == "locked"
        lengths.append(result.locked_for_s)
        clock.t += result.locked_for_s + 1
    assert lengths == [60, 180, 540, 1620, 3600, 3600]
    saved = json.loads(state.read_text())
    assert set(saved) == {"failures", "rounds", "locked_until"} and saved["rounds"] == 6
    gate = PinGate(section, state_file=state, clock=clock)
    assert gate.try_pin(PIN).ok  # only the right PIN resets the rounds
    assert gate.next_lockout_s() == 60 and json.loads(state.read_text())["rounds"] == 0


def test_a_clock_set_back_never_locks_longer_than_the_round(tmp_path):
    clock = FakeClock()
    gate = PinGate(AdminSection(pin_hash=hash_pin(PIN), max_attempts=1, lockout_s=60), clock=clock)
    gate.try_pin("000001")
    clock.t -= 86400
    assert gate.locked_for() == 60


@pytest.mark.parametrize("content", ["{not json", "[]", '{"failures": -1}', '{"failures": "3"}',
                                     '{"locked_until": NaN}', "\udcff"])
def test_a_damaged_state_file_fails_safe_locked_for_the_base_period(tmp_path, caplog, content):
    clock = FakeClock()
    state = tmp_path / "admin-pin-state.json"
    state.write_text(content, encoding="utf-8", errors="surrogateescape")
    section = AdminSection(pin_hash=hash_pin(PIN), max_attempts=5, lockout_s=60, lockout_max_s=3600)
    with caplog.at_level(logging.ERROR, logger="kiosk.operations.admin_pin"):
        gate = PinGate(section, state_file=state, clock=clock)
    assert gate.try_pin(PIN).reason == "locked" and gate.locked_for() == 60
    event = next(r for r in caplog.records if getattr(r, "event", "") == "admin_pin.state_damaged")
    assert event.file == str(state)
    assert json.loads(state.read_text())["rounds"] == 1  # rewritten: a restart does not log it again
    clock.t += 61
    assert PinGate(section, state_file=state, clock=clock).try_pin(PIN).ok


def test_an_old_state_file_without_rounds_still_loads(tmp_path):
    clock = FakeClock()
    state = tmp_path / "pin.json"
    state.write_text(json.dumps({"failures": 5, "locked_until": clock.t + 100}))
    gate = PinGate(AdminSection(pin_hash=hash_pin(PIN), lockout_s=300), state_file=state, clock=clock)
    assert gate.locked_for() == 100 and gate.rounds == 1 and gate.next_lockout_s() == 900


def test_failures_and_lockout_rounds_are_in_the_metrics():
    metrics.REGISTRY.clear()
    gate = PinGate(AdminSection(pin_hash=hash_pin(PIN), max_attempts=2, lockout_s=60), clock=FakeClock())
    assert metrics.REGISTRY.value("kiosk_admin_pin_failures_total") == 0
    assert metrics.REGISTRY.value("kiosk_admin_pin_lockout_rounds") == 0
    gate.try_pin("000001")
    gate.try_pin("000002")
    assert metrics.REGISTRY.value("kiosk_admin_pin_failures_total") == 2
    assert metrics.REGISTRY.value("kiosk_admin_pin_lockout_rounds") == 1
    text = metrics.REGISTRY.render()
    assert "kiosk_admin_pin_failures_total 2.0" in text and "kiosk_admin_pin_lockout_rounds 1.0" in text
    metrics.REGISTRY.clear()


def test_success_resets_the_failure_count():
    gate = PinGate(AdminSection(pin_hash=hash_pin(PIN), max_attempts=3), clock=FakeClock())
    gate.try_pin("000000")
    gate.try_pin("000000")
    assert gate.try_pin(PIN).ok
    assert gate.try_pin("000000").attempts_left == 2


def test_no_pin_configured_never_opens():
    gate = PinGate(AdminSection(pin_hash=""))
    assert gate.try_pin("").reason == "no_pin" and not gate.try_pin("123456").ok


def test_the_doctor_reports_a_legacy_hash_as_too_weak_with_the_fix(tmp_path):
    from app.doctor import check_config
    from kiosk.operations.diagnostics import OK, WARN

    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[admin]\npin_hash = "{legacy_hash("2468")}"\n')
    checks, _ = check_config(str(path))
    pin = next(c for c in checks if c.name == "config.admin_pin")
    assert pin.status == WARN and "too weak" in pin.detail and "kiosk admin set-pin" in pin.fix
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[admin]\npin_hash = "{hash_pin(PIN)}"\n')
    checks, _ = check_config(str(path))
    assert next(c for c in checks if c.name == "config.admin_pin").status == OK
