"""Dry runs: forked from a server that has curation loaded, curating at the lowest CPU priority."""

import os
import sys
import threading
from pathlib import Path

import pytest

from bot import dry_run
from bot.dry_run import DryRunWorker, at_idle_priority
from bot.settings import Settings

LINUX = sys.platform.startswith("linux")


def test_idle_priority_work_runs_on_a_thread_of_its_own_and_returns_its_result() -> None:
    caller = threading.get_ident()
    seen: list[tuple[int, int | None]] = []

    def work() -> str:
        policy = os.sched_getscheduler(0) if LINUX else None
        seen.append((threading.get_ident(), policy))
        return "curated"

    assert at_idle_priority(work) == "curated"
    [(thread, policy)] = seen
    assert thread != caller
    if LINUX:
        assert policy == os.SCHED_IDLE
        # The caller keeps its priority: it is the one that writes to the database.
        assert os.sched_getscheduler(0) == os.SCHED_OTHER


def test_idle_priority_work_raises_what_it_raised() -> None:
    def work() -> None:
        raise ValueError("no replies")

    with pytest.raises(ValueError, match="no replies"):
        at_idle_priority(work)


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

    def work() -> int:
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


@pytest.mark.skipif(not LINUX, reason="the fork server is checked where CI runs it")
def test_a_dry_run_forks_from_a_server_with_curation_and_its_models_loaded(
    tmp_path: Path,
) -> None:
    worker = DryRunWorker(Settings.model_validate({"db": tmp_path / "voiceloop.db"}))
    worker.start()
    found = worker._in_child(loaded_in_child)
    assert found == {"openai trainer": True, "language model": True, "not the parent": True}
