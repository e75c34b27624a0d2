"""The retrain dry run: built in a child process, handed back as a small summary.

Curating a large history is CPU-bound Python: run on one of the bot's threads
it starves the HTTP server (acks wait on the GIL and on full garbage-collection
passes over the replies). So each dry run is a process of its own, forked from
a server process that the bot starts with itself (multiprocessing's
forkserver), which has curation imported and its models loaded already
(bot/dry_run_server.py): a dry run starts in milliseconds, where a spawned
process first spent about two seconds importing and loading at full
priority beside the bot. The child does all its work on a thread at the
lowest CPU priority, stepping off its core every 2 ms, so the bot's threads
get a core whenever they want one; only the database writes are handed to
its main thread, at normal priority, so it never holds the write lock while
waiting for a core. Only the figures the card shows travel back, never the
curated examples, and the child's memory goes when it exits.
"""

import contextlib
import ctypes
import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from typing import TypeVar, cast

from bot.lifecycle import build_lifecycle
from bot.settings import Settings
from curation import RetrainPreview, RetrainRunningError, Runner
from storage import Store

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class DryRun:
    """What the card, App Home and the CLI show before a run starts."""

    dataset_id: str | None  # None: nothing could be kept
    replies: int
    train_examples: int
    validation_examples: int
    tokens: int
    preference_pairs: int
    estimate: str
    base_model: str
    backend: str
    rejections: tuple[tuple[str, int], ...]  # the top reasons, most common first
    warnings: tuple[str, ...]

    @classmethod
    def of(cls, preview: RetrainPreview) -> "DryRun":
        curated = preview.build.curated
        return cls(
            dataset_id=preview.dataset.id if preview.dataset else None,
            replies=curated.replies,
            train_examples=len(curated.train),
            validation_examples=len(curated.validation),
            tokens=preview.tokens,
            preference_pairs=preview.preference_pairs,
            estimate=preview.estimate,
            base_model=preview.base_model,
            backend=preview.backend,
            rejections=tuple(preview.top_rejections()),
            warnings=tuple(preview.warnings),
        )


# What the fork server imports before it forks anything: the main module (so a
# child need not import it again) and the dry run's whole stack with its models.
SERVER_PRELOAD = ["__main__", "bot.dry_run_server"]


def child_context() -> BaseContext:
    """Forks from the fork server where there is one (Linux, macOS); else
    spawns, which costs the start-up the server saves."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(SERVER_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


class DryRunWorker:
    """One dry run at a time, each in its own process."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._busy = threading.Lock()
        self._context = child_context()

    def start(self) -> None:
        """Starts the fork server now, with the bot, so the first dry run does
        not wait for its imports. Not a fork: the server is a fresh process
        started before any dry run, and the bot's threads stay behind."""
        if self._context.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()

    def build(self) -> DryRun:
        """Blocks until the child is done; call it from a background thread."""
        return self._in_child(build_dry_run)

    def build_if_due(self) -> DryRun | None:
        """The scheduler's question, asked where its curation cannot slow the bot."""
        return self._in_child(build_dry_run_if_due)

    def _in_child(self, job: Callable[[Settings], T]) -> T:
        if not self._busy.acquire(blocking=False):
            raise RetrainRunningError
        try:
            # Never a fork of the bot itself: its threads (HTTP server,
            # scheduler, listeners) hold locks a forked child would inherit held.
            pool = ProcessPoolExecutor(max_workers=1, mp_context=self._context)
            try:
                return pool.submit(job, self._settings).result()
            finally:
                # The card does not wait for the child to exit (40-80 ms):
                # the pool's own thread reaps it while the card goes out.
                pool.shutdown(wait=False)
        finally:
            self._busy.release()


def build_dry_run(settings: Settings) -> DryRun:
    """In the child: build (or reuse) the dataset version and summarize it."""
    summary = _summary(settings, only_if_due=False)
    assert summary is not None
    return summary


def build_dry_run_if_due(settings: Settings) -> DryRun | None:
    return _summary(settings, only_if_due=True)


def _summary(settings: Settings, *, only_if_due: bool) -> DryRun | None:
    summary = at_idle_priority(lambda writes: _summarize(settings, only_if_due, writes))
    # Nothing is written from here on: the process's exit, which hands back
    # what curation left behind, yields to the bot too.
    _lowest_priority()
    return summary


def _summarize(settings: Settings, only_if_due: bool, writes: Runner) -> DryRun | None:
    """All of a dry run but its writes, which `writes` runs. At normal
    priority, opening the store and building the lifecycle (its clients
    included) took 50-80 ms before curating, and the estimate and the base
    model's shutdown date 50-70 ms after it; the slowest acks of a dry run
    came in those two spells (10.5 ms once, against a 3 ms idle p99)."""
    # The bot writes each vote before its ack: leave it room in the write lock.
    store = Store(settings.db, pause_long_writes=True)
    try:
        lifecycle = build_lifecycle(settings, store, writes)
        if only_if_due and not lifecycle.due():
            return None
        preview = lifecycle.preview()
        _keep_until_exit(preview)
        return DryRun.of(preview)
    finally:
        store.close()


# A dry run's curated replies and examples, in the child that made them.
_left_for_exit: list[RetrainPreview] = []


def _keep_until_exit(preview: RetrainPreview) -> None:
    """Keeps the preview alive in a dry run's child: multiprocessing ends a
    child with os._exit, no teardown, so its memory goes back to the system
    at once, where freeing the curated objects one by one on return held the
    card back about 70 ms. Elsewhere it is freed as usual."""
    if multiprocessing.parent_process() is not None:
        _left_for_exit[:] = [preview]


def at_idle_priority(work: Callable[[Runner], T], /) -> T:
    """Runs `work` on a thread of its own at the lowest CPU priority (Linux
    runs each thread at its own): it gets a core only when nothing else of
    normal priority wants it. The calling thread keeps its priority, and
    runs whatever `work` hands the Runner it is given (the database writes)."""
    calls: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()

    def on_caller(task: Callable[[], R], /) -> R:
        done: Future[R] = Future()

        def call() -> None:
            try:
                done.set_result(task())
            except BaseException as e:  # handed back to `work`, which raises it
                done.set_exception(e)

        calls.put(call)
        return done.result()

    with (
        ThreadPoolExecutor(max_workers=1, initializer=_lowest_priority) as pool,
        _stepping_aside(),
    ):
        job = pool.submit(work, on_caller)
        job.add_done_callback(lambda _: calls.put(None))
        while (call := calls.get()) is not None:
            call()
        return job.result()


# Every STEP_ASIDE_EVERY seconds (plus up to 1 ms for the GIL to change
# hands) the curating thread is kept off its core for STEP_ASIDE_FOR_US
# microseconds: 5% of its time at most. It costs more than that (the rests'
# wake-ups and switches): in the retrain bench the dry runs took 0.98 and
# 0.99 of `voiceloop curate`'s time with it, 0.83 and 0.76 without.
STEP_ASIDE_EVERY = 0.002
STEP_ASIDE_FOR_US = 100


@contextlib.contextmanager
def _stepping_aside() -> Iterator[None]:
    """Makes the curating thread step off its core now and then.

    The lowest priority alone is not enough. A woken bot thread takes a core
    held only by the curating thread at once (15-43 µs, p99), but Linux looks
    for such a core only while the cores are on average less than about 60%
    busy; above that it wakes the thread where it last ran or where its waker
    runs. A curating thread that never rests puts two cores there, and the
    bot's threads then queue behind one another on the other core. Resting
    lowers that average and gives the scheduler chances to move them: in
    the retrain bench the ack p99 during a dry run was 1.34 and 1.28 times
    the idle one with these rests, 1.71 and 1.61 without (pooled rounds, the
    same hour). Longer rests did a little better on acks but cost more than
    they rest: with 0.3 ms every 2 ms the ratio was 1.72, 1.47 and 1.47
    against 2.07, 1.52 and 1.71 (10-round runs, paired), and a dry run took
    0.90-0.95 of `voiceloop curate`'s time against 0.82-0.85; 0.5 ms made it
    15% slower, up to `curate`'s time.

    So a thread here wakes every STEP_ASIDE_EVERY s, takes the GIL from the
    curating thread (which then waits, off the core) and sleeps without
    releasing it: a C call through ctypes.PyDLL keeps the GIL, where
    time.sleep would hand it straight back."""
    sleep = _gil_holding_sleep()
    if sleep is None:
        yield
        return
    stop = threading.Event()

    def step_aside() -> None:
        while not stop.wait(STEP_ASIDE_EVERY):
            sleep(STEP_ASIDE_FOR_US)

    # The curating thread must hand the GIL over within a millisecond of the
    # request, not the default 5.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    stepper = threading.Thread(target=step_aside, name="dry-run-step-aside", daemon=True)
    stepper.start()
    try:
        yield
    finally:
        stop.set()
        stepper.join()
        sys.setswitchinterval(switch_interval)


def _gil_holding_sleep() -> Callable[[int], object] | None:
    """libc's usleep, called with the GIL held; None where there is none."""
    try:
        usleep = ctypes.PyDLL(None).usleep
    except (AttributeError, OSError, TypeError):
        return None
    usleep.argtypes = [ctypes.c_uint]
    return cast(Callable[[int], object], usleep)


def _lowest_priority() -> None:
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux: the next best thing
        with contextlib.suppress(OSError):
            os.nice(19)
