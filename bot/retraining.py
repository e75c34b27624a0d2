"""The bot's side of the retrain lifecycle: who may do what, and what Slack is told.

Listeners, App Home and the scheduler call this; it calls curation's Lifecycle
and posts what happened. Every method here may be slow (a dry run curates the
whole history, a poll talks to the provider, an evaluation calls the judge), so
callers run them on the background executor or the scheduler's threads, never
on a thread that acks Slack.
"""

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import retrain_blocks as blocks
from bot.dry_run import DryRun
from curation import Lifecycle, LifecycleStatus, RunUpdate
from storage import RunInFlightError, TrainingRun

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"  # requested_by for runs the scheduler starts


@dataclass
class Retraining:
    lifecycle: Lifecycle
    # The dry run, and the scheduler's "is a run due? then the dry run", each
    # built where curation cannot hold up the bot (bot.dry_run).
    build_dry_run: Callable[[], DryRun]
    build_dry_run_if_due: Callable[[], DryRun | None]
    client: WebClient
    admins: Collection[str]
    announce_channel: str | None
    # A line saying the team still uses the example brand's prompts, or None.
    example_brand: str | None = None
    # Wakes the poll loop so a run just started is submitted now, not a poll period later.
    poll_soon: Callable[[], None] = lambda: None
    # When the scheduler next checks for enough new examples (None: it is off).
    next_check: Callable[[], datetime | None] = lambda: None

    def is_admin(self, user: str) -> bool:
        return not self.admins or user in self.admins

    def dry_run(self) -> DryRun:
        dry_run = self.build_dry_run()
        if self.example_brand is None:
            return dry_run
        notice = self.example_brand[:1].upper() + self.example_brand[1:]
        return replace(dry_run, warnings=(*dry_run.warnings, notice))

    def start(self, dataset_id: str, user: str) -> TrainingRun:
        """Raises RunInFlightError when a run is already in flight (the database decides)."""
        run = self.lifecycle.start(dataset_id, user)
        log.info("run %d started by %s on dataset %s", run.id, user, dataset_id)
        self.poll_soon()
        return run

    def advance(self) -> list[RunUpdate]:
        """One poll of the run in flight; each update is announced and sent to its requester."""
        updates = self.lifecycle.advance()
        for update in updates:
            self.report(update)
        return updates

    def scheduled_check(self) -> TrainingRun | None:
        """The scheduler's tick: a run starts when enough new kept examples exist."""
        dry_run = self.build_dry_run_if_due()
        if dry_run is None or dry_run.dataset_id is None:
            return None
        try:
            run = self.start(dry_run.dataset_id, SCHEDULER)
        except RunInFlightError:
            return None  # someone pressed Start meanwhile; one run is enough
        self.announce(*blocks.run_started(run, dry_run))
        return run

    def status(self) -> LifecycleStatus:
        return self.lifecycle.status()

    def publish_home(self, user: str) -> None:
        """Draws the App Home tab for one person (admins also get the buttons)."""
        view = blocks.home_view(self.status(), self.next_check(), admin=self.is_admin(user))
        self.client.views_publish(user_id=user, view=view)

    def tell(self, user: str, text: str, message: list[blocks.Block] | None = None) -> None:
        """A direct message from the app, for answers to clicks on App Home."""
        self._post(user, text, message or blocks.text_blocks(text))

    def report(self, update: RunUpdate) -> None:
        """Progress goes to whoever started the run; outcomes to the announce channel too."""
        text, message = blocks.run_update(update)
        requester = update.run.requested_by
        if requester and requester.startswith(("U", "W")):
            self._post(requester, text, message)
        if update.kind != "progress":
            self.announce(text, message)

    def announce(self, text: str, message: list[blocks.Block]) -> None:
        if self.announce_channel:
            self._post(self.announce_channel, text, message)

    def _post(self, channel: str, text: str, message: list[blocks.Block]) -> None:
        try:
            self.client.chat_postMessage(channel=channel, text=text, blocks=message)
        except (SlackApiError, SlackClientError) as e:
            # An announcement that cannot be posted must not undo or repeat the
            # step it reports; the run's history keeps the facts.
            error = e.response.get("error") if isinstance(e, SlackApiError) else type(e).__name__
            log.warning("could not post a retrain update to %s (%s)", channel, error)
