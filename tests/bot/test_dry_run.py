"""The dry run's child process yields the CPU to the bot."""

import os
from pathlib import Path

from bot.dry_run import DRY_RUN_NICENESS, DryRunWorker
from bot.settings import Settings, load_settings


def child_niceness(_settings: Settings) -> int:
    return os.nice(0)


def test_the_dry_run_child_runs_at_a_lower_priority_than_the_bot(tmp_path: Path) -> None:
    settings = load_settings(db=tmp_path / "bot.db", _env_file=None)
    expected = min(19, os.nice(0) + DRY_RUN_NICENESS)  # 19 is the lowest priority
    assert DryRunWorker(settings)._in_child(child_niceness) == expected
