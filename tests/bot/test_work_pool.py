"""The worker pool: bounded waiting, refusals, and a stop that keeps its deadline."""

import threading
import time

import pytest

from bot.work_pool import PoolClosedError, PoolFullError, WorkerPool


def test_capacity_counts_waiting_jobs_beyond_the_busy_workers() -> None:
    release = threading.Event()
    pool = WorkerPool("test", workers=2, capacity=1)
    try:
        running = [pool.submit(release.wait) for _ in range(2)]
        waiting = pool.submit(lambda: "ran")
        with pytest.raises(PoolFullError):
            pool.submit(lambda: "refused")
        assert pool.pending == 3
        release.set()
        assert waiting.result(timeout=5) == "ran"
        assert all(f.result(timeout=5) for f in running)
        assert pool.wait_idle(5)
        assert pool.submit(lambda: 1).result(timeout=5) == 1
    finally:
        release.set()
        pool.shutdown()


def test_a_failing_job_keeps_its_worker() -> None:
    pool = WorkerPool("test", workers=1, capacity=None)

    def fail() -> None:
        raise RuntimeError("boom")

    try:
        with pytest.raises(RuntimeError):
            pool.submit(fail).result(timeout=5)
        assert pool.submit(lambda: "still here").result(timeout=5) == "still here"
    finally:
        pool.shutdown()


def test_stop_drops_queued_jobs_and_waits_only_until_the_deadline() -> None:
    never, started_running = threading.Event(), threading.Event()
    pool = WorkerPool("test", workers=1, capacity=5)

    def stuck_job() -> None:
        started_running.set()
        never.wait()

    stuck = pool.submit(stuck_job)
    assert started_running.wait(5)
    queued = [pool.submit(lambda: None) for _ in range(3)]
    started = time.monotonic()
    unfinished = pool.stop(time.monotonic() + 0.2)
    assert time.monotonic() - started < 2
    assert unfinished == 4  # three dropped, one still running
    assert all(f.cancelled() for f in queued) and not stuck.done()
    with pytest.raises(PoolClosedError):
        pool.submit(lambda: None)
    never.set()
    assert pool.wait_idle(5)


class CountingCondition(threading.Condition):
    """Counts the waits that return on the pool's workers: each one a worker woken."""

    woken = 0

    def wait(self, timeout: float | None = None) -> bool:
        woke = super().wait(timeout)
        if threading.current_thread().name.startswith("test-"):
            CountingCondition.woken += 1
        return woke


def test_a_job_wakes_one_idle_worker_not_all_of_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threading, "Condition", CountingCondition)
    pool = WorkerPool("test", workers=8, capacity=None)
    try:
        assert pool.submit(lambda: None).result(timeout=5) is None
        assert pool.wait_idle(5)
        CountingCondition.woken = 0
        jobs = 50
        for i in range(jobs):
            assert pool.submit(lambda i=i: i).result(timeout=5) == i
        # One wake-up per job, give or take one that found its job taken.
        # Waking every idle worker on each submit and on each finished job
        # came to over four per job.
        assert CountingCondition.woken <= 1.5 * jobs
    finally:
        pool.shutdown()
