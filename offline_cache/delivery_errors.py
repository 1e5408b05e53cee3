"""What the sender and the probe say about a failure, and how long one HIS
call may take (shared by ``offline_cache.sender`` and ``offline_cache.prober``)."""
from __future__ import annotations

from kiosk.config.loader import Config
from kiosk.errors import KioskError
from kiosk.operations.logs import redact


def his_call_bound_s(config: Config) -> float:
    """How long one HIS call can take at most (connect + read timeout) plus a
    margin: what stopping a background thread waits for."""
    return config.his.connect_timeout_s + config.his.read_timeout_s + 2.0


def error_text(exc: BaseException) -> str:
    """What the entry keeps as its last error: the class and, for the kiosk's
    own typed errors (whose texts never hold personal data), the technical
    text; other exceptions only by class name."""
    if isinstance(exc, KioskError):
        return redact(f"{type(exc).__name__}: {exc}")[:300]
    return type(exc).__name__
