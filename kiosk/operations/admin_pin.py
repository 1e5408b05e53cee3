"""The admin PIN: a scrypt hash in the config, and a gate with a lockout.

The config keeps only ``admin.pin_hash`` in the form
``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``: the PIN itself is never stored,
and a copied config does not reveal it. ``kiosk admin set-pin`` makes the hash.

``PinGate`` counts wrong PINs; after ``admin.max_attempts`` failures in a row
it refuses every PIN (even the right one) for ``admin.lockout_s`` seconds.
The counter is kept in a small JSON file in the data folder when one is
given, so pulling the plug does not reset the lockout.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.errors import KioskError

# ~16 MiB of memory, ~50 ms per check on a small kiosk PC: slow enough to make
# guessing a copied hash costly, fast enough for a touch screen.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
PIN_MIN, PIN_MAX = 4, 12


class PinError(KioskError):
    """A PIN that cannot be used (not 4-12 digits) or an unreadable stored hash."""

    patient_message_key = "error.out_of_service"


def check_pin_format(pin: str) -> None:
    if not (pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX and pin.isascii()):
        raise PinError(f"admin PIN: expected {PIN_MIN}-{PIN_MAX} digits")


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    check_pin_format(pin)
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt)}${b64(digest)}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches ``stored`` (compared in constant time)."""
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
        n, r, p = int(n), int(r), int(p)
    except ValueError:
        raise PinError("admin.pin_hash: not a scrypt hash made by `kiosk admin set-pin`") from None
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected),
                            maxmem=max(64 * 1024 * 1024, 256 * n * r))
    return hmac.compare_digest(digest, expected)


@dataclass
class PinResult:
    ok: bool
    locked_for_s: float = 0.0  # > 0 while locked out
    attempts_left: int = 0
    reason: str = ""  # "ok", "wrong", "locked", "no_pin"


class PinGate:
    """Checks PINs against ``admin.pin_hash`` with the lockout of ``[admin]``."""

    def __init__(self, admin_section, state_file: str | os.PathLike | None = None,
                 clock: Callable[[], float] = time.time):
        self.pin_hash = admin_section.pin_hash
        self.max_attempts = admin_section.max_attempts
        self.lockout_s = admin_section.lockout_s
        self.clock = clock
        self.state_file = Path(state_file) if state_file else None
        self.failures, self.locked_until = self._load()

    def _load(self) -> tuple[int, float]:
        if not self.state_file:
            return 0, 0.0
        try:
            data = json.loads(self.state_file.read_text())
            return int(data.get("failures", 0)), float(data.get("locked_until", 0.0))
        except (OSError, ValueError, AttributeError):
            return 0, 0.0

    def _save(self) -> None:
        if not self.state_file:
            return
        try:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"failures": self.failures, "locked_until": self.locked_until}))
            os.replace(tmp, self.state_file)
        except OSError:
            pass  # the in-memory lockout still holds

    def locked_for(self) -> float:
        return max(0.0, self.locked_until - self.clock())

    def attempts_left(self) -> int:
        return max(0, self.max_attempts - self.failures)

    def try_pin(self, pin: str) -> PinResult:
        if not self.pin_hash:
            return PinResult(False, reason="no_pin")
        remaining = self.locked_for()
        if remaining > 0:
            return PinResult(False, locked_for_s=remaining, reason="locked")
        if self.locked_until:  # a lockout has run out: a fresh set of attempts
            self.failures, self.locked_until = 0, 0.0
        try:
            good = verify_pin(pin, self.pin_hash)
        except PinError:
            good = False
        if good:
            self.failures, self.locked_until = 0, 0.0
            self._save()
            return PinResult(True, attempts_left=self.max_attempts, reason="ok")
        self.failures += 1
        if self.failures >= self.max_attempts:
            self.locked_until = self.clock() + self.lockout_s
            self._save()
            return PinResult(False, locked_for_s=self.lockout_s, reason="locked")
        self._save()
        return PinResult(False, attempts_left=self.attempts_left(), reason="wrong")
