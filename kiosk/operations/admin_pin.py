"""The admin PIN: a scrypt hash in the config, a PIN rule, and a gate whose
lockout grows and survives restarts.

The config keeps only ``admin.pin_hash``, in the form
``scrypt-p2$<n>$<r>$<p>$<salt b64>$<hash b64>``: the PIN itself is never
stored. The scheme name says the PIN passed rule 2 (``pin_problem``: 6-12
digits, not trivial) when ``kiosk admin set-pin`` made the hash. A hash of
the older form ``scrypt$…`` (made when 4 digits were accepted) still opens
the admin screen, but ``kiosk config check`` and ``kiosk doctor`` report it
as too weak (``hash_problem``) until ``kiosk admin set-pin`` replaces it.

``PinGate`` counts wrong PINs. After ``admin.max_attempts`` failures in a row
it refuses every PIN (even the right one) for a lockout that grows with each
round: ``admin.lockout_s``, then 3×, 9×… that, at most
``admin.lockout_max_s``; only the right PIN resets the rounds. The state
(counts and the end of the lockout, nothing personal) is kept in a small
JSON file in the data folder, written atomically, so pulling the plug does
not reset it; a damaged file locks for ``admin.lockout_s`` (fail safe).
Metrics: ``kiosk_admin_pin_failures_total`` and ``kiosk_admin_pin_lockout_rounds``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.config.writer import write_atomically
from kiosk.errors import KioskError
from kiosk.operations import metrics

log = logging.getLogger(__name__)

# ~16 MiB of memory, ~50 ms per check on a small kiosk PC: slow enough to make
# guessing a copied hash costly, fast enough for a touch screen.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
PIN_MIN, PIN_MAX = 6, 12
SCHEME = "scrypt-p2"  # scrypt, PIN checked against rule 2 (pin_problem) when hashed
LEGACY_SCHEME = "scrypt"  # made when 4-digit PINs were accepted: verifies, reported as too weak
LOCKOUT_GROWTH = 3  # each lockout round lasts this many times the one before
SET_PIN_FIX = "run `kiosk admin set-pin` on this kiosk (6-12 digits, not a run or a repeat)"


class PinError(KioskError):
    """A PIN that cannot be used (too short, trivial) or an unreadable stored hash."""

    patient_message_key = "error.out_of_service"


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` may not be the admin PIN (rule 2), or None when it may.

    6-12 ASCII digits, and not trivial: not digits in one constant step
    (111111, 123456, 987654, 890123, 135791) and not a repeated group
    (121212, 123123, 12341234). The reason never contains the PIN."""
    if not (pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        return f"expected {PIN_MIN}-{PIN_MAX} digits"
    digits = [int(c) for c in pin]
    steps = {(b - a) % 10 for a, b in zip(digits, digits[1:])}
    if len(steps) == 1:
        return "digits in one constant step (like 111111, 123456 or 987654) are guessed first"
    for size in range(1, len(pin) // 2 + 1):
        if len(pin) % size == 0 and pin == pin[:size] * (len(pin) // size):
            return "a repeated group of digits (like 121212 or 123123) is guessed first"
    return None


def check_pin_format(pin: str) -> None:
    """Raise ``PinError`` when ``pin`` breaks the rule (``pin_problem``)."""
    problem = pin_problem(pin)
    if problem:
        raise PinError(f"admin PIN refused: {problem}")


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    check_pin_format(pin)
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"{SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt)}${b64(digest)}"


def _parse(stored: str) -> tuple[str, int, int, int, bytes, bytes]:
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme not in (SCHEME, LEGACY_SCHEME):
            raise ValueError(scheme)
        salt, expected = base64.b64decode(salt_b64, validate=True), base64.b64decode(hash_b64, validate=True)
        n, r, p = int(n), int(r), int(p)
        if n < 2 or r < 1 or p < 1 or not expected:
            raise ValueError("parameters")
    except ValueError:
        raise PinError("admin.pin_hash: not a scrypt hash made by `kiosk admin set-pin`") from None
    return scheme, n, r, p, salt, expected


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches ``stored`` (compared in constant time)."""
    _, n, r, p, salt, expected = _parse(stored)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected),
                            maxmem=max(64 * 1024 * 1024, 256 * n * r))
    return hmac.compare_digest(digest, expected)


def hash_problem(stored: str) -> str | None:
    """What is wrong with a stored ``admin.pin_hash`` ("" = no PIN: not a
    problem here), for ``kiosk config check`` and ``kiosk doctor``; the fix is
    always ``kiosk admin set-pin`` (``SET_PIN_FIX``)."""
    if not stored:
        return None
    try:
        scheme, n, r, _, salt, expected = _parse(stored)
    except PinError as exc:
        return str(exc)
    if scheme == LEGACY_SCHEME:
        return ("admin.pin_hash: too weak — made by an older `kiosk admin set-pin` that accepted 4-digit "
                "and trivial PINs")
    if n < SCRYPT_N or r < SCRYPT_R or len(salt) < 16 or len(expected) < 32:
        return "admin.pin_hash: too weak — scrypt parameters below those `kiosk admin set-pin` uses"
    return None


@dataclass
class PinResult:
    ok: bool
    locked_for_s: float = 0.0  # > 0 while locked out
    attempts_left: int = 0
    reason: str = ""  # "ok", "wrong", "locked", "no_pin"


class PinGate:
    """Checks PINs against ``admin.pin_hash`` with the growing lockout of ``[admin]``."""

    def __init__(self, admin_section, state_file: str | os.PathLike | None = None,
                 clock: Callable[[], float] = time.time):
        self.pin_hash = admin_section.pin_hash
        self.max_attempts = admin_section.max_attempts
        self.lockout_s = float(admin_section.lockout_s)
        self.lockout_max_s = max(self.lockout_s, float(getattr(admin_section, "lockout_max_s", self.lockout_s)))
        self.clock = clock
        self.state_file = Path(state_file) if state_file else None
        self.failures, self.rounds, self.locked_until = 0, 0, 0.0
        self._load()
        self._publish()

    # -- the lockout ladder ----------------------------------------------------
    def lockout_for_round(self, rounds: int) -> float:
        """Length of lockout round ``rounds`` (1 = the first): lockout_s × 3^(rounds-1), capped."""
        if rounds <= 0:
            return 0.0
        exponent = min(rounds - 1, 64)  # 3^64 × anything is past any cap
        return min(self.lockout_max_s, self.lockout_s * LOCKOUT_GROWTH ** exponent)

    def next_lockout_s(self) -> float:
        """How long the pad locks if the attempts left are used up."""
        return self.lockout_for_round(self.rounds + 1)

    def current_lockout_s(self) -> float:
        """Length of the lockout now running (0 when none)."""
        return self.lockout_for_round(self.rounds) if self.locked_for() > 0 else 0.0

    # -- the state file -----------------------------------------------------------
    def _load(self) -> None:
        if not self.state_file:
            return
        try:
            raw = self.state_file.read_bytes()
        except FileNotFoundError:
            return  # a new kiosk: no failures yet
        except OSError as exc:
            self._damaged(f"unreadable ({type(exc).__name__})")
            return
        try:
            data = json.loads(raw.decode("utf-8"))
            failures, rounds = data.get("failures", 0), data.get("rounds", 0)
            locked_until = data.get("locked_until", 0.0)
            if not (isinstance(failures, int) and isinstance(rounds, int) and failures >= 0 and rounds >= 0
                    and isinstance(locked_until, (int, float)) and math.isfinite(locked_until)
                    and not isinstance(locked_until, bool) and locked_until >= 0):
                raise ValueError("fields")
        except (ValueError, AttributeError):
            self._damaged("not a PIN state file")
            return
        if not rounds and locked_until:  # written before lockouts grew: one round had run
            rounds = 1
        self.failures, self.rounds, self.locked_until = failures, rounds, float(locked_until)

    def _damaged(self, why: str) -> None:
        """Fail safe: a state file that cannot be read locks for the first round's length."""
        self.failures, self.rounds = 0, max(self.rounds, 1)
        self.locked_until = self.clock() + self.lockout_s
        log.error("admin PIN state file damaged: locked for the base lockout",
                  extra={"event": "admin_pin.state_damaged", "file": str(self.state_file), "why": why,
                         "locked_for_s": self.lockout_s})
        self._save()

    def _save(self) -> None:
        self._publish()
        if not self.state_file:
            return
        state = {"failures": self.failures, "rounds": self.rounds, "locked_until": self.locked_until}
        try:
            write_atomically(self.state_file, json.dumps(state) + "\n")
        except OSError as exc:  # the in-memory lockout still holds
            log.warning("admin PIN state not saved", extra={"event": "admin_pin.state_not_saved",
                                                            "file": str(self.state_file),
                                                            "error": type(exc).__name__})

    def _publish(self) -> None:
        metrics.ADMIN_PIN_LOCKOUT_ROUNDS.set(self.rounds)

    # -- checking ---------------------------------------------------------------
    def locked_for(self) -> float:
        remaining = self.locked_until - self.clock()
        if remaining <= 0:
            return 0.0
        longest = self.lockout_for_round(max(self.rounds, 1))
        if remaining > longest:  # the clock was set back: never lock longer than the round
            self.locked_until = self.clock() + longest
            self._save()
            return longest
        return remaining

    def attempts_left(self) -> int:
        return max(0, self.max_attempts - self.failures)

    def try_pin(self, pin: str) -> PinResult:
        if not self.pin_hash:
            return PinResult(False, reason="no_pin")
        remaining = self.locked_for()
        if remaining > 0:
            return PinResult(False, locked_for_s=remaining, reason="locked")
        if self.locked_until:  # a lockout has run out: a fresh set of attempts, the rounds remain
            self.failures, self.locked_until = 0, 0.0
        try:
            good = verify_pin(pin, self.pin_hash)
        except PinError:
            good = False
        if good:
            if self.failures or self.rounds:
                log.info("admin PIN right after failures", extra={"event": "admin_pin.unlocked",
                                                                  "failures": self.failures, "rounds": self.rounds})
            self.failures, self.rounds, self.locked_until = 0, 0, 0.0
            self._save()
            return PinResult(True, attempts_left=self.max_attempts, reason="ok")
        self.failures += 1
        metrics.ADMIN_PIN_FAILURES.inc()
        if self.failures >= self.max_attempts:
            self.rounds += 1
            length = self.lockout_for_round(self.rounds)
            self.failures, self.locked_until = 0, self.clock() + length
            log.warning("admin PIN locked after wrong PINs", extra={"event": "admin_pin.locked",
                                                                    "rounds": self.rounds, "locked_for_s": length})
            self._save()
            return PinResult(False, locked_for_s=length, reason="locked")
        self._save()
        return PinResult(False, attempts_left=self.attempts_left(), reason="wrong")
