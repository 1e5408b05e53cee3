"""Answers about cards checked today, so that a patient who comes back to the
kiosk (or is checked twice in one journey) does not cost another lookup: the
gateway has quotas. In memory only, keyed by a salted hash of card number,
name and birth date (the salt is random per process, so the keys mean
nothing outside it), emptied when the day changes."""
from __future__ import annotations

import hashlib
import os
import threading
import time

from kiosk.insurance.card_check import InsuranceCheck


class RecheckCache:
    def __init__(self, keep_s: float, monotonic=time.monotonic, max_entries: int = 5000):
        self.keep_s = keep_s
        self._monotonic = monotonic
        self._max = max_entries
        self._salt = os.urandom(16)
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, InsuranceCheck]] = {}
        self._day = None

    def __repr__(self) -> str:
        return f"RecheckCache({len(self._entries)} entries)"

    def __len__(self) -> int:
        return len(self._entries)

    def key(self, *parts: str) -> str:
        text = "\x1f".join(parts).encode("utf-8")
        return hashlib.blake2b(text, key=self._salt, digest_size=20).hexdigest()

    def get(self, key: str, day) -> InsuranceCheck | None:
        if self.keep_s <= 0:
            return None
        with self._lock:
            self._roll(day)
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self._monotonic() - entry[0] < self.keep_s:
                return entry[1]
            del self._entries[key]
            return None

    def put(self, key: str, result: InsuranceCheck, day) -> None:
        if self.keep_s <= 0:
            return
        with self._lock:
            self._roll(day)
            self._entries.pop(key, None)
            while len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (self._monotonic(), result)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _roll(self, day) -> None:
        if day != self._day:
            self._entries.clear()
            self._day = day
