"""The bot's housekeeping on a schedule: finish unanswered messages, forget old delivery records."""

import logging
import threading
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.chat.replying import BotIdentity, Responder
from storage import StorageError, Store

log = logging.getLogger(__name__)

# Slack stops retrying a delivery within minutes; a week of records is plenty.
KEEP_EVENTS = timedelta(days=7)


class Maintenance:
    """At start-up, answers what a crash left unanswered; then, every `every`
    seconds, redoes replies whose work failed and prunes delivery records."""

    def __init__(self, responder: Responder, store: Store, client: WebClient, every: float) -> None:
        self.responder = responder
        self.store = store
        self.client = client
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._identity: BotIdentity | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._loop, name="voiceloop-maintenance", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> None:
        """One pass; failures are logged and the next pass tries again."""
        try:
            kept = self.responder.claim_kept()
            if kept:
                log.info("%d acknowledged message(s) had no claim yet; answering them", kept)
            taken = self.responder.recover(self.client, self._bot())
            if taken:
                log.info("took up %d unanswered message(s)", taken)
            self.store.prune_events(KEEP_EVENTS)
        except (SlackApiError, SlackClientError, OSError, StorageError) as e:
            log.warning("maintenance pass stopped early (%s); trying again later", type(e).__name__)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.every)

    def _bot(self) -> BotIdentity:
        # The bot's own ids tell its placeholders apart from people's messages.
        if self._identity is None:
            auth = self.client.auth_test()
            self._identity = BotIdentity(user_id=auth.get("user_id"), bot_id=auth.get("bot_id"))
        return self._identity
