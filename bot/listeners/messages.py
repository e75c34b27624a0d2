"""Mentions, DMs and thread follow-ups become replies."""

import logging
from collections.abc import Collection
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.chat.replying import BotIdentity, Message, Responder
from storage import Store

log = logging.getLogger(__name__)


def register(app: App, responder: Responder, store: Store, channels: Collection[str]) -> None:
    allowed = set(channels)

    def answers_in(channel: str, channel_type: str | None) -> bool:
        return channel_type == "im" or not allowed or channel in allowed

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        message = _message(event)
        if message is None or not answers_in(message.channel, event.get("channel_type")):
            return
        responder.answer(client, message, _identity(context))

    @app.event("message")
    def on_message(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("subtype") or event.get("bot_id") or event.get("user") == context.bot_user_id:
            return  # edits, joins, other bots and our own posts
        message = _message(event)
        if message is None:
            return
        channel_type = event.get("channel_type")
        if channel_type == "im" or (
            message.thread_ts
            and answers_in(message.channel, channel_type)
            and store.bot_in_thread(message.channel, message.thread_ts)
        ):
            responder.answer(client, message, _identity(context))


def _message(event: dict[str, Any]) -> Message | None:
    try:
        return Message(
            channel=str(event["channel"]),
            ts=str(event["ts"]),
            user=str(event.get("user") or ""),
            text=str(event.get("text") or ""),
            thread_ts=event.get("thread_ts"),
        )
    except KeyError as e:
        log.warning("ignoring a message event without %s", e)
        return None


def _identity(context: BoltContext) -> BotIdentity:
    return BotIdentity(user_id=context.bot_user_id, bot_id=context.bot_id)
