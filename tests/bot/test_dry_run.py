"""Dry runs: forked from a server with curation loaded; all but writes at the lowest priority."""

import functools
import os
import sys
import threading
from pathlib import Path
from typing import cast

import pytest

from bot import dry_run
from bot.dry_run import DryRunWorker, at_idle_priority
from bot.settings import Settings
from curation import RetrainPreview, Runner

LINUX = sys.platform.startswith("linux")


def where() -> tuple[int, int | None]:
    """The calling thread and its scheduling policy (None where not Linux)."""
    return threading.get_ident(), os.sched_getscheduler(0) if LINUX else None


def test_idle_priority_work_runs_on_a_thread_of_its_own_and_returns_its_result() -> None:
    caller = threading.get_ident()
    seen: list[tuple[int, int | None]] = []

    def work(writes: Runner) -> str:
        seen.append(where())
        return "curated"

    assert at_idle_priority(work) == "curated"
    [(thread, policy)] = seen
    assert thread != caller
    if LINUX:
        assert policy == os.SCHED_IDLE
        assert os.sched_getscheduler(0) == os.SCHED_OTHER


def test_what_the_work_hands_its_runner_runs_on_the_caller_at_its_priority() -> None:
    # The writes: a write lock held by a thread waiting for a core stalls acks.
    caller = where()
    seen: list[tuple[int, int | None]] = []

    def write(n: int) -> int:
        seen.append(where())
        return n

    def work(writes: Runner) -> list[int]:
        seen.append(where())
        return [writes(functools.partial(write, n)) for n in range(3)]

    assert at_idle_priority(work) == [0, 1, 2]
    worker, *written = seen
    assert written == [caller] * 3
    assert worker[0] != caller[0]


def test_idle_priority_work_raises_what_it_raised() -> None:
    def work(writes: Runner) -> None:
        raise ValueError("no replies")

    with pytest.raises(ValueError, match="no replies"):
        at_idle_priority(work)


def test_a_failed_write_is_raised_in_the_work_that_handed_it_over() -> None:
    def fail() -> None:
        raise OSError("disk full")

    def work(writes: Runner) -> str:
        try:
            writes(fail)
        except OSError as e:
            return f"caught {e}"
        return "not raised"

    assert at_idle_priority(work) == "caught disk full"


def test_idle_priority_work_is_kept_off_its_core_now_and_then_holding_the_gil(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_sleep = dry_run._gil_holding_sleep()
    if real_sleep is None:
        pytest.skip("no libc usleep here")
    # While the stepper sleeps, the working thread may not run Python: it
    # records how far it got before and after each step aside.
    progress = [0]
    steps: list[tuple[int, int]] = []

    def sleep(microseconds: int) -> object:
        before = progress[0]
        real_sleep(microseconds)
        steps.append((before, progress[0]))
        return None

    monkeypatch.setattr(dry_run, "_gil_holding_sleep", lambda: sleep)
    switch_interval = sys.getswitchinterval()

    def work(writes: Runner) -> int:
        while len(steps) < 20:
            progress[0] += 1
        return progress[0]

    assert at_idle_priority(work) > 0
    assert len(steps) >= 20
    # The GIL stayed with the stepper through its sleeps (all but the rare one
    # where the OS took the stepper off its core for over a switch interval).
    held = sum(before == after for before, after in steps)
    assert held >= 0.9 * len(steps)
    assert sys.getswitchinterval() == switch_interval


def loaded_in_child(_settings: Settings) -> dict[str, bool]:
    """Runs in the dry run's child: what it found loaded when it started."""
    import py3langid.langid

    return {
        "openai trainer": "curation.training.openai_trainer" in sys.modules,
        "language model": py3langid.langid.IDENTIFIER is not None,
        "not the parent": os.getppid() != PARENT,
    }


PARENT = os.getpid()


on_linux = pytest.mark.skipif(not LINUX, reason="the fork server is checked where CI runs it")


@pytest.fixture
def worker(tmp_path: Path) -> DryRunWorker:
    """A dry-run worker whose fork server is running."""
    started = DryRunWorker(Settings.model_validate({"db": tmp_path / "voiceloop.db"}))
    started.start()
    return started


@on_linux
def test_a_dry_run_forks_from_a_server_with_curation_and_its_models_loaded(
    worker: DryRunWorker,
) -> None:
    found = worker._in_child(loaded_in_child)
    assert found == {"openai trainer": True, "language model": True, "not the parent": True}


def kept_in_child(_settings: Settings) -> bool:
    """Runs in a dry run's child: whether a preview is kept for its exit."""
    dry_run._keep_until_exit(PREVIEW)
    return dry_run._left_for_exit == [PREVIEW]


PREVIEW = cast(RetrainPreview, object())  # stands in: only its identity is looked at


@on_linux
def test_a_childs_preview_is_left_for_its_exit_and_the_bots_own_is_freed(
    worker: DryRunWorker,
) -> None:
    assert worker._in_child(kept_in_child)
    dry_run._keep_until_exit(PREVIEW)
    assert dry_run._left_for_exit == []
