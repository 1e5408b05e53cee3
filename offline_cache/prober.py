"""The HIS probe: is the HIS reachable? Decides when the kiosk goes offline
and comes back, and keeps the reference-data cache fresh while online."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from kiosk.config.loader import Config
from kiosk.ports import MODE_ONLINE
from offline_cache.db import DatabaseClosed
from offline_cache.delivery_errors import error_text, his_call_bound_s

log = logging.getLogger(__name__)


class Prober:
    """Pings the HIS every ``offline.probe_interval_s`` (with the
    ``go_offline_after_s`` deadline) and refreshes the reference cache when
    online and older than ``offline.reference_refresh_s``.

    Going offline needs confirmation: a failed probe switches the kiosk
    offline only once probes have failed for ``offline.confirm_offline_s`` in
    a row, and at least twice (while in doubt it probes every
    ``confirm_offline_s / 2``); one lost reply does not. With
    ``confirm_offline_s = 0`` the first failure switches. Coming back online
    takes one good probe. A delivery of the outbox sender that finds the HIS
    not answering counts as a failed probe (``report_failure``). (A check-in that fails is not delayed by this: it
    gets its offline ticket at once, ``kiosk.checkin.offline_first``.)"""

    def __init__(self, his, monitor, config: Config, reference=None, *, clock: Callable[[], float] = time.monotonic):
        self.his = his
        self.monitor = monitor
        self.config = config
        self.reference = reference
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing_since: float | None = None
        self._failures = 0
        self._lock = threading.Lock()  # failures come from the probe and from the outbox sender

    def report_failure(self, reason: str) -> None:
        """A failed probe — or another part of the kiosk (the outbox sender)
        finding the HIS not answering: the kiosk goes offline once failures are
        confirmed (see the class doc)."""
        with self._lock:
            now = self._clock()
            if self._failing_since is None:
                self._failing_since, self._failures = now, 0
            self._failures += 1
            window = self.config.offline.confirm_offline_s
            confirmed = window <= 0 or (self._failures >= 2 and now - self._failing_since >= window)
            if confirmed or self.monitor.mode() != MODE_ONLINE:
                self.monitor.report_unavailable(reason)
            else:
                log.info("HIS probe failed; confirming before going offline", extra={
                    "event": "probe.unconfirmed_failure", "failures": self._failures, "reason": reason})

    @property
    def confirming(self) -> bool:
        """A probe failed and the kiosk is still online: probe again sooner."""
        return self._failing_since is not None and self.monitor.mode() == MODE_ONLINE

    def probe_once(self) -> bool:
        """One probe with a deadline; reports to the monitor; True when the HIS
        answered (the monitor goes offline only once failures are confirmed)."""
        done = threading.Event()
        result: dict = {}

        def ping():
            try:
                result["rtt"] = self.his.ping()
            except Exception as exc:  # noqa: BLE001
                result["error"] = exc
            done.set()

        threading.Thread(target=ping, name="his-probe-ping", daemon=True).start()
        if not done.wait(self.config.offline.go_offline_after_s):
            self.report_failure(
                f"probe: no HIS answer within offline.go_offline_after_s = {self.config.offline.go_offline_after_s:g} s")
            return False
        if "error" in result:
            self.report_failure(f"probe: {error_text(result['error'])}")
            return False
        with self._lock:
            self._failing_since, self._failures = None, 0
        self.monitor.report_ok("probe answered")
        self.refresh_reference()
        return True

    def refresh_reference(self, *, force: bool = False) -> bool:
        if self.reference is None:
            return False
        age = self.reference.age_s()
        if not force and age is not None and age < self.config.offline.reference_refresh_s:
            return False
        try:
            departments = self.his.list_departments(refresh=True)
        except Exception as exc:  # noqa: BLE001 - the old cache stays
            log.warning("reference data not refreshed", extra={"event": "reference.refresh_failed",
                                                               "error": error_text(exc)})
            return False
        if not departments:
            log.warning("HIS returned no departments; cache kept", extra={"event": "reference.empty"})
            return False
        self.reference.store(departments)
        log.info("reference data refreshed", extra={"event": "reference.refreshed", "departments": len(departments)})
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="his-probe", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop and wait for a probe in flight (bounded by its deadline and one
        HIS call for the reference refresh) before the database closes."""
        self._stop.set()
        if self._thread:
            bound = self.config.offline.go_offline_after_s + his_call_bound_s(self.config)
            self._thread.join(bound if timeout is None else timeout)

    def _run(self) -> None:
        off = self.config.offline
        while not self._stop.is_set():
            try:
                self.probe_once()
            except DatabaseClosed:
                return
            except Exception:
                log.exception("probe loop error", extra={"event": "probe.loop_error"})
            interval = off.probe_interval_s
            if self.confirming and off.confirm_offline_s > 0:
                interval = min(interval, off.confirm_offline_s / 2)
            self._stop.wait(interval)
