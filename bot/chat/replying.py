"""Answers one Slack message exactly once: claim, placeholder, model call, final reply, stored row.

A message's claim is written before Slack's delivery is acknowledged, and is
marked answered only once the reply is posted and stored. Work that fails is
released so Slack's retry, the next maintenance pass or a restart redoes it,
editing the same "Thinking…" placeholder instead of posting another.
"""

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.chat.blocks import reply_blocks
from bot.chat.model import ChatModel, ChatModelError
from bot.chat.prompting import build_request
from bot.chat.retries import retried_calls
from bot.chat.thread_context import is_from_bot, strip_mention, thread_turns
from curation import count_tokens
from storage import Arrival, Claim, Intake, Reply, StorageError, Store, ts_order

log = logging.getLogger(__name__)

PLACEHOLDER = ":hourglass_flowing_sand: _Thinking…_"
APOLOGY = (
    "Sorry, I couldn't come up with a reply just now. "
    "Please try again in a minute; if it keeps happening, let an admin know."
)
HISTORY_LIMIT = 200  # messages fetched from a thread; the token budget trims further
# A message whose work failed this often gets the apology instead of another try.
MAX_ATTEMPTS = 3
# Failures that release a claim for a later redo rather than give the apology.
TRANSIENT = (SlackApiError, SlackClientError, OSError, StorageError)


# A message the bot was asked to answer: the record kept before its ack.
Message = Arrival


@dataclass(frozen=True)
class BotIdentity:
    user_id: str | None
    bot_id: str | None


def worker_name() -> str:
    """Names this process in the claims it holds, so a restart knows whose work to finish."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Responder:
    def __init__(
        self,
        store: Store,
        chat: ChatModel,
        *,
        context_tokens: int,
        claim_expiry: timedelta,
        worker: str | None = None,
        intake: Intake | None = None,
    ) -> None:
        self.store = store
        # Where messages are kept between the ack and their claim (storage/intake.py).
        self.intake = intake or Intake.beside(store.path)
        self.chat = chat
        self.context_tokens = context_tokens
        self.claim_expiry = claim_expiry
        self.worker = worker or worker_name()
        # Claims this process is working on now: a redelivery that arrives while
        # a slow reply is still being written must not start it again, however
        # old the claim.
        self._in_flight: set[tuple[str, str]] = set()
        self._in_flight_lock = threading.Lock()

    def warm_up(self) -> None:
        """Loads now what the first reply would load: the live model's tokenizer
        (about 0.4 s holding the GIL) and the SDK's chat resource. Loaded on a
        reply thread, they stall every ack that arrives meanwhile."""
        deployment = self.store.live_deployment()
        if deployment is not None:
            count_tokens("warm", deployment.model)
            self.chat.client(deployment.base_url).chat.completions  # noqa: B018

    def keep(self, message: Message) -> None:
        """Makes the message durable before Slack's delivery is acknowledged,
        so a crash after the ack cannot lose it; raises StorageError when it
        cannot, and the delivery is refused so Slack sends it again."""
        self.intake.append(message)

    def receive(self, message: Message) -> Claim | None:
        """Claims the message (after `keep`, once Slack has its ack); None
        when it is answered or being answered."""
        key = (message.channel, message.ts)
        with self._in_flight_lock:
            if key in self._in_flight:
                return None
            claim = self.store.claim_message(
                message.channel,
                message.ts,
                worker=self.worker,
                user=message.user,
                text=message.text,
                thread_ts=message.thread_ts,
                expires_after=self.claim_expiry,
            )
            if claim is not None:
                self._in_flight.add(key)
            return claim

    def answer(self, client: WebClient, claim: Claim, bot: BotIdentity) -> Reply | None:
        """Does the claimed work: the reply, or the apology when the model fails."""
        message = Message(claim.channel, claim.ts, claim.user, claim.text, claim.thread_ts)
        try:
            if claim.attempts > MAX_ATTEMPTS:
                self._give_up(client, claim)
                return None
            return self._answer(client, claim, message, bot)
        except TRANSIENT as e:
            log.error(
                "no reply to %s/%s yet (%s); it will be tried again",
                message.channel,
                message.ts,
                _reason(e),
            )
            self._release(claim)
            return None
        except Exception:
            log.exception("no reply to %s/%s", message.channel, message.ts)
            self._release(claim)
            raise
        finally:
            with self._in_flight_lock:
                self._in_flight.discard((claim.channel, claim.ts))

    def decline(self, client: WebClient, claim: Claim, note: str) -> None:
        """Answers a claimed message with `note` instead of a reply (the bot is
        too busy to take it): the note is its answer, so nothing redoes it."""
        try:
            posted = client.chat_postMessage(
                channel=claim.channel, thread_ts=claim.thread_ts or claim.ts, text=note
            )
            self.store.mark_answered(claim.channel, claim.ts, str(posted["ts"]), None)
        except TRANSIENT as e:
            log.error("could not decline %s/%s (%s)", claim.channel, claim.ts, _reason(e))
            self._release(claim)  # a later maintenance pass answers it instead
        finally:
            with self._in_flight_lock:
                self._in_flight.discard((claim.channel, claim.ts))

    def claim_kept(self) -> int:
        """Claims, released for `recover` to answer, for kept messages that
        have none: a crash or a failed write came between the ack and the
        claim. Returns how many were added."""
        with self.intake.taken() as arrivals:
            if not arrivals:
                return 0
            return self.store.add_released_claims(arrivals)

    def recover(self, client: WebClient, bot: BotIdentity) -> int:
        """Finishes what a crash or a failure left: claims held by another
        (dead) process, released ones, and ones held too long. Returns how many
        messages were taken up."""
        stale = self.claim_expiry
        taken = 0
        for left in self.store.unanswered_claims(not_by=self.worker, stale_after=stale):
            key = (left.channel, left.ts)
            with self._in_flight_lock:
                if key in self._in_flight:
                    continue
                claim = self.store.take_over_claim(left, self.worker)
                if claim is None:
                    continue
                self._in_flight.add(key)
            taken += 1
            log.info("answering %s/%s, left unanswered earlier", claim.channel, claim.ts)
            self.answer(client, claim, bot)
        return taken

    def _answer(
        self, client: WebClient, claim: Claim, message: Message, bot: BotIdentity
    ) -> Reply | None:
        reply_ts = claim.placeholder_ts
        if reply_ts is None and claim.attempts > 1:
            reply_ts = self._orphan_placeholder(client, message, bot)
        if reply_ts is None:
            with retried_calls() as retried:
                placeholder = client.chat_postMessage(
                    channel=message.channel, thread_ts=message.root, text=PLACEHOLDER
                )
            reply_ts = str(placeholder["ts"])
            if "chat.postMessage" in retried:
                self._remove_extra_placeholders(client, message, bot, keep=reply_ts)
        if reply_ts != claim.placeholder_ts:
            self.store.set_placeholder(message.channel, message.ts, reply_ts)
        try:
            reply = self._generate(client, message, bot, reply_ts)
        except ChatModelError as e:
            log.error("no reply to %s/%s: %s", message.channel, message.ts, e)
            self._replace(client, message.channel, reply_ts, APOLOGY, blocks=None)
            self.store.mark_answered(message.channel, message.ts, reply_ts, None)
            return None
        self._replace(client, message.channel, reply_ts, reply.text, reply_blocks(reply.text))
        self.store.mark_answered(message.channel, message.ts, reply_ts, reply)
        return reply

    def _give_up(self, client: WebClient, claim: Claim) -> None:
        """After MAX_ATTEMPTS the person gets the apology instead of silence, or
        a "Thinking…" that never ends."""
        log.error(
            "giving up on %s/%s after %d attempts", claim.channel, claim.ts, claim.attempts - 1
        )
        if claim.placeholder_ts is not None:
            self._replace(client, claim.channel, claim.placeholder_ts, APOLOGY, blocks=None)
            reply_ts = claim.placeholder_ts
        else:
            posted = client.chat_postMessage(
                channel=claim.channel, thread_ts=claim.thread_ts or claim.ts, text=APOLOGY
            )
            reply_ts = str(posted["ts"])
        self.store.mark_answered(claim.channel, claim.ts, reply_ts, None)

    def _release(self, claim: Claim) -> None:
        try:
            self.store.release_claim(claim.channel, claim.ts, self.worker)
        except StorageError as e:
            # The claim expires instead; the redo only comes later.
            log.error("could not release the claim on %s/%s: %s", claim.channel, claim.ts, e)

    def _orphan_placeholder(
        self, client: WebClient, message: Message, bot: BotIdentity
    ) -> str | None:
        """A "Thinking…" the crashed attempt posted but had no time to record."""
        return next(iter(self._unowned_placeholders(client, message, bot)), None)

    def _remove_extra_placeholders(
        self, client: WebClient, message: Message, bot: BotIdentity, keep: str
    ) -> None:
        """The placeholder post was retried after a 5xx or a dropped
        connection, which Slack may have posted anyway: delete the extra."""
        try:
            for ts in self._unowned_placeholders(client, message, bot):
                if ts != keep:
                    client.chat_delete(channel=message.channel, ts=ts)
                    log.info("removed a duplicate placeholder in %s", message.channel)
        except (SlackApiError, SlackClientError) as e:
            # The reply still goes out; at worst a "Thinking…" stays behind.
            log.warning("could not check for a duplicate placeholder: %s", _reason(e))

    def _unowned_placeholders(
        self, client: WebClient, message: Message, bot: BotIdentity
    ) -> list[str]:
        """Our "Thinking…" messages after `message` in its thread that no claim owns."""
        in_use = self.store.placeholders_in(message.channel, message.root)
        return [
            ts
            for posted in self._thread(client, message.channel, message.root)
            if posted.get("text") == PLACEHOLDER
            and is_from_bot(posted, bot.user_id, bot.bot_id)
            and ts_order(ts := str(posted.get("ts") or "")) > ts_order(message.ts)
            and ts not in in_use
        ]

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
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return f"Slack answered {error.response.status_code}: {error.response.get('error')}"
    if isinstance(error, StorageError):
        return str(error)
    return type(error).__name__
