"""Answers one Slack message: placeholder, model call, final reply, stored row."""

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.chat.blocks import reply_blocks
from bot.chat.model import ChatModel, ChatModelError
from bot.chat.prompting import build_request
from bot.chat.thread_context import strip_mention, thread_turns
from storage import Reply, Store

log = logging.getLogger(__name__)

PLACEHOLDER = ":hourglass_flowing_sand: _Thinking…_"
APOLOGY = (
    "Sorry, I couldn't come up with a reply just now. "
    "Please try again in a minute; if it keeps happening, let an admin know."
)
HISTORY_LIMIT = 200  # messages fetched from a thread; the token budget trims further


@dataclass(frozen=True)
class Message:
    """A message the bot was asked to answer."""

    channel: str
    ts: str
    user: str
    text: str
    thread_ts: str | None = None

    @property
    def root(self) -> str:
        """The thread the reply goes in: the message's own thread, or a new one under it."""
        return self.thread_ts or self.ts


@dataclass(frozen=True)
class BotIdentity:
    user_id: str | None
    bot_id: str | None


class Responder:
    def __init__(self, store: Store, chat: ChatModel, *, context_tokens: int) -> None:
        self.store = store
        self.chat = chat
        self.context_tokens = context_tokens

    def answer(self, client: WebClient, message: Message, bot: BotIdentity) -> Reply | None:
        """Replies once per message, however often Slack delivers it."""
        if not self.store.claim_event(f"message:{message.channel}:{message.ts}"):
            return None
        placeholder = client.chat_postMessage(
            channel=message.channel, thread_ts=message.root, text=PLACEHOLDER
        )
        reply_ts = str(placeholder["ts"])
        try:
            reply = self._generate(client, message, bot, reply_ts)
        except ChatModelError as e:
            log.error("no reply to %s/%s: %s", message.channel, message.ts, e)
            self._replace(client, message.channel, reply_ts, APOLOGY, blocks=None)
            return None
        except Exception:
            # Never leave a "Thinking…" placeholder behind, whatever went wrong.
            log.exception("no reply to %s/%s", message.channel, message.ts)
            self._replace(client, message.channel, reply_ts, APOLOGY, blocks=None)
            raise
        self._replace(client, message.channel, reply_ts, reply.text, reply_blocks(reply.text))
        self.store.save_reply(reply)
        return reply

    def _generate(
        self, client: WebClient, message: Message, bot: BotIdentity, reply_ts: str
    ) -> Reply:
        deployment = self.store.live_deployment()
        if deployment is None:
            raise ChatModelError("no deployment is live")
        prompt = self.store.prompt(deployment.prompt_id)
        history = []
        if message.thread_ts:
            history = thread_turns(
                self._thread(client, message.channel, message.thread_ts),
                before_ts=message.ts,
                bot_user_id=bot.user_id,
                bot_id=bot.bot_id,
                skip_ts=[reply_ts],
            )
        request = build_request(
            prompt.content,
            history,
            strip_mention(message.text, bot.user_id),
            model=deployment.model,
            budget=self.context_tokens,
        )
        completion = self.chat.complete(
            request.messages, model=deployment.model, base_url=deployment.base_url
        )
        return Reply(
            channel=message.channel,
            ts=reply_ts,
            thread_ts=message.root,
            asked_by=message.user,
            question=request.question,
            context=request.context,
            text=completion.text,
            model=deployment.model,
            prompt_id=prompt.id,
            deployment_id=deployment.id,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            latency_ms=completion.latency_ms,
        )

    def _thread(self, client: WebClient, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        try:
            response = client.conversations_replies(
                channel=channel, ts=thread_ts, limit=HISTORY_LIMIT
            )
        except SlackApiError as e:
            # A reply without history beats no reply at all.
            log.warning("could not read thread %s/%s: %s", channel, thread_ts, e.response["error"])
            return []
        return list(response.get("messages") or [])

    def _replace(
        self,
        client: WebClient,
        channel: str,
        ts: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
    ) -> None:
        try:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as e:
            log.error("could not update reply %s/%s: %s", channel, ts, e.response["error"])
            raise
