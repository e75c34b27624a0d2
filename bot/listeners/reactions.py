"""Rating reactions on bot replies become votes; removing one removes the vote."""

import logging
import threading
from collections.abc import Collection
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack_text import reaction_source, reaction_verdict
from storage import Store

log = logging.getLogger(__name__)


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


def register(app: App, store: Store, good: Collection[str], bad: Collection[str]) -> None:
    bot_users = BotUsers()

    def rated_reply(
        body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext
    ) -> tuple[str, str, str] | None:
        """(channel, ts, user) when this reaction rates a bot reply, else None."""
        item = event.get("item") or {}
        user = event.get("user")
        if item.get("type") != "message" or not user or user == context.bot_user_id:
            return None
        if reaction_verdict(str(event.get("reaction", "")), good, bad) is None:
            return None
        channel, ts = str(item.get("channel")), str(item.get("ts"))
        if store.reply(channel, ts) is None or bot_users.is_bot(client, user):
            return None
        event_id = body.get("event_id")
        if event_id and not store.claim_event(f"event:{event_id}"):
            return None
        return channel, ts, user

    def on_reaction(
        body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        target = rated_reply(body, event, client, context)
        if target is None:
            return
        source = reaction_source(event["reaction"])
        if event["type"] == "reaction_removed":
            store.remove_vote(*target, source=source)
            return
        verdict = reaction_verdict(event["reaction"], good, bad)
        assert verdict is not None  # rated_reply only lets rating emoji through
        store.record_vote(*target, value=verdict, source=source)

    app.event("reaction_added")(on_reaction)
    app.event("reaction_removed")(on_reaction)
