"""The scheduler polls at once (resuming a run left in flight), on its period, and when woken."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.scheduler import RetrainScheduler


class Ticks:
    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def __call__(self) -> None:
        with self.changed:
            self.count += 1
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.count >= count, timeout), self.count


def never() -> None:
    raise AssertionError("the check must not run")


def test_polls_at_start_up_and_when_woken() -> None:
    polls = Ticks()
    scheduler = RetrainScheduler(polls, never, every_hours=1.0, poll_seconds=3600)
    scheduler.start()
    try:
        polls.wait_for(1)  # a run left in flight by a restart resumes at once
        scheduler.poll_soon()
        polls.wait_for(2)
    finally:
        scheduler.shutdown()


def test_polls_on_its_period() -> None:
    polls = Ticks()
    scheduler = RetrainScheduler(polls, never, every_hours=1.0, poll_seconds=0.02)
    scheduler.start()
    try:
        polls.wait_for(3)
    finally:
        scheduler.shutdown()


def test_the_next_check_is_a_period_away_and_zero_turns_it_off() -> None:
    on = RetrainScheduler(Ticks(), never, every_hours=1.5, poll_seconds=3600)
    off = RetrainScheduler(Ticks(), never, every_hours=0, poll_seconds=3600)
    on.start()
    off.start()
    try:
        expected = datetime.now(UTC) + timedelta(hours=1.5)
        next_check = on.next_check()
        assert next_check is not None
        assert abs((next_check - expected).total_seconds()) < 60
        assert off.next_check() is None
    finally:
        on.shutdown()
        off.shutdown()


def test_a_failing_tick_is_logged_and_the_next_one_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    polls = Ticks()

    def failing() -> None:
        polls()
        raise RuntimeError("provider down")

    scheduler = RetrainScheduler(failing, failing, every_hours=1.0, poll_seconds=0.02)
    scheduler.start()
    try:
        polls.wait_for(2)
        scheduler.check()
    finally:
        scheduler.shutdown()
    assert "polling the run in flight failed" in caplog.text
    assert "the scheduled retrain check failed" in caplog.text
