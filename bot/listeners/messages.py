"""Mentions, DMs and thread follow-ups become replies, written on the reply pool.

A wanted message is kept in a listener middleware, which Bolt runs before it
acknowledges the delivery: a crash after the ack cannot lose the message, and
a failure to keep it answers 500 so Slack delivers it again. The listener,
after the ack, claims it in the database and queues the reply: model calls
never run on the threads that ack.
"""

import logging
from collections.abc import Callable, Collection
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from bot.chat.replying import BotIdentity, Message, Responder
from bot.slack_text import slack_id, slack_ts
from bot.work_pool import PoolClosedError, PoolFullError, WorkerPool
from storage import StorageError, Store

log = logging.getLogger(__name__)

KEPT = "voiceloop_kept"  # where the middleware leaves the kept message for the listener
BUSY = (
    ":hourglass: I'm answering a lot of questions right now and couldn't take yours. "
    "Please try again in a minute."
)


def register(
    app: App,
    responder: Responder,
    store: Store,
    channels: Collection[str],
    replies: WorkerPool,
) -> None:
    allowed = set(channels)

    def answers_in(channel: str, channel_type: str | None) -> bool:
        return channel_type == "im" or not allowed or channel in allowed

    def wanted_mention(event: dict[str, Any], context: BoltContext) -> Message | None:
        message = _message(event)
        if message is None or not answers_in(message.channel, event.get("channel_type")):
            return None
        return message

    def wanted_message(event: dict[str, Any], context: BoltContext) -> Message | None:
        if event.get("subtype") or event.get("bot_id") or event.get("user") == context.bot_user_id:
            return None  # edits, joins, other bots and our own posts
        message = _message(event)
        if message is None:
            return None
        channel_type = event.get("channel_type")
        if channel_type == "im" or (
            message.thread_ts
            and answers_in(message.channel, channel_type)
            and store.bot_in_thread(message.channel, message.thread_ts)
        ):
            return message
        return None

    def answer(client: WebClient, context: BoltContext) -> None:
        message = context.get(KEPT)
        if message is None:
            return
        try:
            claim = responder.receive(message)
        except StorageError as e:
            # Kept already: the next maintenance pass claims and answers it.
            log.warning("could not claim %s/%s yet: %s", message.channel, message.ts, e)
            return
        if claim is None:
            return  # answered, or being answered
        try:
            replies.submit(responder.answer, client, claim, _identity(context))
        except PoolFullError:
            log.warning("reply queue full: told %s/%s to try again", claim.channel, claim.ts)
            responder.decline(client, claim, BUSY)
        except PoolClosedError:
            # Shutting down: the claim stays unanswered, and the next start answers it.
            log.info("not answering %s/%s while shutting down", claim.channel, claim.ts)

    @app.event("app_mention", middleware=[KeepBeforeAck(wanted_mention, responder)])
    def on_mention(client: WebClient, context: BoltContext) -> None:
        answer(client, context)

    @app.event("message", middleware=[KeepBeforeAck(wanted_message, responder)])
    def on_message(client: WebClient, context: BoltContext) -> None:
        answer(client, context)


class KeepBeforeAck(Middleware):
    """Keeps a wanted message before Bolt acknowledges its delivery.

    A Middleware subclass rather than a function: Bolt calls a function
    middleware through argument injection (inspecting its signature on every
    event), and this runs before every ack of a message Slack sends."""

    def __init__(
        self,
        wanted: Callable[[dict[str, Any], BoltContext], Message | None],
        responder: Responder,
    ) -> None:
        self._wanted = wanted
        self._responder = responder

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        event = req.body.get("event")
        message = self._wanted(event, req.context) if isinstance(event, dict) else None
        if message is not None:
            self._responder.keep(message)
        req.context[KEPT] = message
        return next()


def _message(event: dict[str, Any]) -> Message | None:
    channel, ts = slack_id(event.get("channel")), slack_ts(event.get("ts"))
    thread_ts = event.get("thread_ts")
    if channel is None or ts is None or (thread_ts is not None and slack_ts(thread_ts) is None):
        log.warning("ignoring a message event without a valid channel and ts")
        return None
    user = event.get("user")
    return Message(
        channel=channel,
        ts=ts,
        user=slack_id(user) or "",
        text=str(event.get("text") or ""),
        thread_ts=thread_ts,
    )


def _identity(context: BoltContext) -> BotIdentity:
    return BotIdentity(user_id=context.bot_user_id, bot_id=context.bot_id)
