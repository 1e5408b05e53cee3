"""Offline-first support: the local SQLite database (outbox, reference-data
cache, mode log), the outbox sender, the HIS probe and the connectivity
monitor. Implements ports of ``kiosk``; never imports ``devices`` or ``ui``.

``diagnose(config)`` is what ``kiosk doctor`` shows about it.
"""
from __future__ import annotations

from offline_cache.diagnose import diagnose

__all__ = ["diagnose"]
