"""The loop's clock: polls the run in flight and checks, now and then, whether to retrain.

APScheduler runs both jobs on its own threads, so neither a slow provider nor a
long evaluation ever sits on a thread that acks Slack. Each job coalesces
missed ticks and never runs twice at once.
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)


class _SkippedTicks(logging.Filter):
    """A tick that finds the previous poll still running is skipped by design
    (one poll at a time); APScheduler would warn about each one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_SkippedTicks())
# APScheduler logs every job it adds and runs at INFO; a poll every 30 s would drown the log.
logging.getLogger("apscheduler").setLevel(logging.WARNING)

POLL_JOB = "poll-run-in-flight"
CHECK_JOB = "scheduled-retrain-check"


class RetrainScheduler:
    """`poll` advances the run in flight; `check` starts a run when one is due."""

    def __init__(
        self,
        poll: Callable[[], object],
        check: Callable[[], object],
        *,
        every_hours: float,
        poll_seconds: float,
    ) -> None:
        self._poll = poll
        self._check = check
        self.every_hours = every_hours
        self.poll_seconds = poll_seconds
        self._scheduler = BackgroundScheduler(
            # One thread per job: a long poll never delays the scheduled check.
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )

    def start(self) -> None:
        now = datetime.now(UTC)
        # First poll at once: a run left in flight by a restart resumes now.
        self._scheduler.add_job(
            self.poll,
            IntervalTrigger(seconds=self.poll_seconds, timezone=UTC),
            id=POLL_JOB,
            next_run_time=now,
        )
        if self.every_hours > 0:
            self._scheduler.add_job(
                self.check,
                IntervalTrigger(hours=self.every_hours, timezone=UTC),
                id=CHECK_JOB,
                next_run_time=now + timedelta(hours=self.every_hours),
            )
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def poll_soon(self) -> None:
        """Polls now rather than a period later (a run was just started)."""
        job = self._scheduler.get_job(POLL_JOB)
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))

    def next_check(self) -> datetime | None:
        job = self._scheduler.get_job(CHECK_JOB)
        return None if job is None else job.next_run_time

    def poll(self) -> None:
        try:
            self._poll()
        except Exception:
            # The next tick tries again; the run's own history records provider failures.
            log.exception("polling the run in flight failed")

    def check(self) -> None:
        try:
            self._check()
        except Exception:
            log.exception("the scheduled retrain check failed")
