"""What the outbox and the BHYT recheck queue share (offline_cache.work_queue):
the back-off rule, the worker's chores, and a quiet end when the database closes."""
from __future__ import annotations

import logging
import random
import time

from offline_cache.db import DatabaseClosed
from offline_cache.work_queue import BackgroundWorker, retry_at, retry_delay


def test_backoff_doubles_up_to_its_ceiling_with_jitter():
    assert [retry_delay(n, 2.0, 30.0) for n in range(1, 7)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert retry_delay(0, 2.0, 30.0) == 2.0
    rng = random.Random(7)
    before = time.time()
    times = [retry_at(10.0, rng) - before for _ in range(200)]
    assert all(4.9 <= t <= 10.1 for t in times) and max(times) - min(times) > 3  # spread, not one instant


class Chores(BackgroundWorker):
    thread_name, stopped_event, log = "test-worker", "test.stopped", logging.getLogger("test.worker")

    def __init__(self, rounds: int, fail_with: Exception | None = None):
        super().__init__()
        self.rounds, self.fail_with = rounds, fail_with
        self.ran: list[str] = []

    def _chore(self, name):
        def run():
            self.ran.append(name)
            if self.fail_with is not None:
                raise self.fail_with
        return run

    def _loop(self) -> None:
        for _ in range(self.rounds):
            self._every("now", 3600, self._chore("now"), "test.now_failed")
            self._every("later", 3600, self._chore("later"), "test.later_failed", first_after=3600)


def test_chores_run_when_due_and_a_failure_is_logged_not_fatal(caplog):
    worker = Chores(rounds=3)
    worker._run()
    assert worker.ran == ["now"]  # once per period; "later" waits its first period (checked at opening)
    failing = Chores(rounds=2, fail_with=RuntimeError("disk full"))
    with caplog.at_level(logging.ERROR, logger="test.worker"):
        failing._run()
    assert failing.ran == ["now"] and [r.event for r in caplog.records] == ["test.now_failed"]


def test_a_closed_database_ends_the_worker_quietly(caplog):
    worker = Chores(rounds=5, fail_with=DatabaseClosed("closed"))
    with caplog.at_level(logging.INFO, logger="test.worker"):
        worker._run()  # no exception escapes the thread
    assert worker.ran == ["now"] and [r.event for r in caplog.records] == ["test.stopped"]


def test_start_kick_and_stop_within_the_bound():
    class Sleeper(BackgroundWorker):
        thread_name, stopped_event, log = "test-sleeper", "test.stopped", logging.getLogger("test.worker")
        wakes = 0

        def _loop(self) -> None:
            while not self._stop.is_set():
                self._sleep(60)
                self.wakes += 1

    worker = Sleeper()
    worker.start()
    worker.kick()
    deadline = time.monotonic() + 10
    while worker.wakes == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker.wakes >= 1  # a kick ends the sleep at once
    assert worker._join(10) is True
