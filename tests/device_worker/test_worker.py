"""The one device-thread class shared by the card reader, the printer and their simulators."""
from __future__ import annotations

import threading

import pytest

from devices.worker import DeviceTimeout, DeviceWorker


class Stuck(Exception):
    pass


def test_jobs_run_one_at_a_time_on_the_device_thread_and_return_or_raise():
    worker = DeviceWorker("test")
    try:
        assert worker.call(lambda: threading.current_thread().name, 2.0) == "test-device"
        with pytest.raises(KeyError):
            worker.call(lambda: {}["missing"], 2.0)
        assert worker.call(lambda: 42, 2.0) == 42
    finally:
        worker.close()


def test_a_job_that_overruns_times_out_and_the_worker_stays_usable():
    worker = DeviceWorker("test", timeout_error=Stuck)
    release = threading.Event()
    try:
        with pytest.raises(Stuck, match="did not answer"):
            worker.call(lambda: release.wait(5.0), 0.05)
        release.set()
        assert worker.call(lambda: "after", 2.0) == "after"
    finally:
        worker.close()


def test_a_queued_job_whose_caller_gave_up_is_cancelled_not_run():
    worker = DeviceWorker("test")
    release, ran = threading.Event(), []
    try:
        blocker = worker.submit(lambda: release.wait(5.0))
        with pytest.raises(DeviceTimeout):
            worker.call(lambda: ran.append("late"), 0.05)  # queued behind the blocker
        release.set()
        blocker.result(2.0)
        worker.call(lambda: None, 2.0)  # everything queued before this has been handled
        assert ran == []
    finally:
        worker.close()


def test_the_idle_hook_runs_on_the_device_thread_between_jobs():
    seen = []
    polled = threading.Event()

    def idle():
        seen.append(threading.current_thread().name)
        polled.set()

    worker = DeviceWorker("reader", idle=idle, idle_every_s=0.01)
    try:
        worker.start()
        assert polled.wait(2.0)
        assert set(seen) == {"reader-device"}
    finally:
        worker.close()


def test_a_failing_idle_hook_does_not_kill_the_thread():
    calls = []

    def idle():
        calls.append(1)
        raise RuntimeError("reader poll failed")

    worker = DeviceWorker("reader", idle=idle, idle_every_s=0.01)
    try:
        worker.start()
        assert worker.call(lambda: "alive", 2.0) == "alive"
        worker.call(lambda: None, 2.0)
        assert calls
    finally:
        worker.close()


def test_close_runs_the_exit_hook_on_the_device_thread_and_cancels_queued_jobs():
    exited = []
    worker = DeviceWorker("test", on_exit=lambda: exited.append(threading.current_thread().name))
    release = threading.Event()
    blocker = worker.submit(lambda: release.wait(5.0))
    worker._jobs.put(None)  # the stop that close() sends, while the blocker runs
    queued = worker.submit(lambda: "never")
    release.set()
    blocker.result(2.0)
    worker.close()
    assert exited == ["test-device"]
    assert queued.cancelled()
    with pytest.raises(RuntimeError, match="closed"):
        worker.call(lambda: None, 1.0)
    worker.reopen()
    try:
        assert worker.call(lambda: "again", 2.0) == "again"
    finally:
        worker.close()
