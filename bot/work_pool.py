"""A fixed set of daemon worker threads with a bounded queue, stoppable within a deadline."""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class PoolFullError(RuntimeError):
    """Every worker is busy and the queue holds as many jobs as it may."""


class PoolClosedError(RuntimeError):
    """The pool is shutting down and takes no new work."""


class WorkerPool(Executor):
    """Runs jobs on `workers` threads, with at most `capacity` more waiting.

    Unlike ThreadPoolExecutor its threads are daemons, so a job stuck in a slow
    model call cannot hold the process past its shutdown grace period, and a
    full queue refuses work (`PoolFullError`) instead of growing without bound.
    `capacity=None` never refuses (for the listeners that must ack).
    """

    def __init__(self, name: str, workers: int, capacity: int | None = None) -> None:
        if workers < 1:
            raise ValueError("a pool needs at least one worker")
        self.name = name
        self.capacity = capacity
        self._queue: deque[tuple[Future[Any], Callable[[], Any]]] = deque()
        self._running = 0
        self._closed = False
        # Two conditions on one lock, so a job wakes one idle worker. One shared
        # condition woke every idle worker on each submit and each finished
        # job: at a mention every 50 ms that was a tenth of the bot's CPU
        # (0.19-0.20 of a core against 0.16-0.18), and the woken threads
        # queued for the GIL beside the HTTP thread still sending the ack.
        self._lock = threading.Lock()
        self._job_waiting = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def pending(self) -> int:
        """Jobs waiting or running."""
        with self._lock:
            return len(self._queue) + self._running

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> "Future[T]":
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise PoolClosedError(f"{self.name} pool is shutting down")
            # Only jobs beyond the idle workers wait, so `capacity` counts waiting jobs.
            idle = len(self._threads) - self._running
            if self.capacity is not None and len(self._queue) - idle >= self.capacity:
                raise PoolFullError(f"{self.name} pool is full")
            self._queue.append((future, lambda: fn(*args, **kwargs)))
            self._job_waiting.notify()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Executor's interface; `stop()` is the one with a deadline."""
        with self._lock:
            self._closed = True
            if cancel_futures:
                self._cancel_queued()
            self._wake_everyone()
        if wait:
            self.wait_idle(None)

    def stop(self, deadline: float) -> int:
        """Takes no new work, drops what has not started, and waits for running
        jobs until `deadline` (time.monotonic()). Returns how many jobs were
        dropped or still running; their threads die with the process."""
        with self._lock:
            self._closed = True
            dropped = self._cancel_queued()
            self._wake_everyone()
        self.wait_idle(max(0.0, deadline - time.monotonic()))
        return dropped + self.pending

    def wait_idle(self, timeout: float | None) -> bool:
        """Waits until nothing is queued or running; False if `timeout` passed first."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._queue and not self._running, timeout)

    def _wake_everyone(self) -> None:
        """With the lock held: every worker checks whether to exit, and the
        queue may have just emptied for whoever waits for idle."""
        self._job_waiting.notify_all()
        self._idle.notify_all()

    def _cancel_queued(self) -> int:
        dropped = len(self._queue)
        for future, _job in self._queue:
            future.cancel()
        self._queue.clear()
        return dropped

    def _work(self) -> None:
        while True:
            with self._lock:
                self._job_waiting.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return  # closed and drained
                future, job = self._queue.popleft()
                self._running += 1
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(job())
                    except BaseException as e:  # reported below; the worker lives on
                        future.set_exception(e)
                        log.exception("%s job failed", self.name)
            finally:
                with self._lock:
                    self._running -= 1
                    if not self._queue and not self._running:
                        self._idle.notify_all()
