"""Rating reactions on bot replies become votes; removing one removes the vote.

The verdict is written in a listener middleware, before Bolt acknowledges the
event, so an acknowledged vote survives a crash; each verdict carries Slack's
event_ts, so votes apply in the order people made them whatever order the
deliveries are processed in. Whether the reactor is a bot needs users.info,
which is slow, so that check runs after the ack and takes back a bot's vote.
"""

import logging
import threading
from collections.abc import Callable, Collection
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack_text import reaction_source, reaction_verdict, slack_id, slack_ts
from storage import Store, VoteEvent

log = logging.getLogger(__name__)

RATED = "voiceloop_rated"  # where the middleware leaves (channel, ts, user) for the listener


class BotUsers:
    """Remembers which user ids are bots (reactions from bots are not ratings)."""

    def __init__(self) -> None:
        self._known: dict[str, bool] = {}
        self._lock = threading.Lock()

    def is_bot(self, client: WebClient, user: str) -> bool:
        with self._lock:
            if user in self._known:
                return self._known[user]
        try:
            info = client.users_info(user=user)["user"]
            answer = bool(info.get("is_bot")) or info.get("id") == "USLACKBOT"
        except SlackApiError as e:
            log.warning("could not look up user %s: %s", user, e.response["error"])
            return False  # not cached: the next reaction asks again
        with self._lock:
            self._known[user] = answer
        return answer

    def known_bot(self, user: str) -> bool:
        """Whether `user` is already known to be a bot, without asking Slack."""
        with self._lock:
            return self._known.get(user, False)


def register(app: App, store: Store, good: Collection[str], bad: Collection[str]) -> None:
    bot_users = BotUsers()

    def verdict_of(
        event: dict[str, Any], context: BoltContext
    ) -> tuple[str, str, str, VoteEvent] | None:
        """(channel, ts, user, verdict) when this reaction rates a bot reply, else None."""
        item = event.get("item") or {}
        user = slack_id(event.get("user"))
        if not isinstance(item, dict) or item.get("type") != "message":
            return None
        if user is None or user == context.bot_user_id:
            return None
        reaction = event.get("reaction")
        if not isinstance(reaction, str):
            return None
        value = reaction_verdict(reaction, good, bad)
        channel, ts = slack_id(item.get("channel")), slack_ts(item.get("ts"))
        event_ts = slack_ts(event.get("event_ts"))
        if value is None or channel is None or ts is None or event_ts is None:
            return None
        if store.reply(channel, ts) is None:
            return None
        if event.get("type") == "reaction_removed":
            return channel, ts, user, VoteEvent(reaction_source(reaction), None, event_ts)
        return channel, ts, user, VoteEvent(reaction_source(reaction), value, event_ts)

    def vote_before_ack(
        event: dict[str, Any], context: BoltContext, next: Callable[[], Any]
    ) -> None:
        found = verdict_of(event, context)
        context[RATED] = None
        if found is not None and not bot_users.known_bot(found[2]):
            channel, ts, user, verdict = found
            store.apply_verdict(channel, ts, user, verdict)
            context[RATED] = (channel, ts, user)
        next()

    def check_reactor(client: WebClient, context: BoltContext) -> None:
        rated = context.get(RATED)
        if rated is not None and bot_users.is_bot(client, rated[2]):
            store.forget_voter(*rated)

    app.event("reaction_added", middleware=[vote_before_ack])(check_reactor)
    app.event("reaction_removed", middleware=[vote_before_ack])(check_reactor)
