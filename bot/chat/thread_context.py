"""Turns a Slack thread into chat turns for the model."""

from collections.abc import Iterable, Mapping
from typing import Any

from bot.slack_text import strip_mentions
from storage import ChatTurn


def strip_mention(text: str, bot_user_id: str | None) -> str:
    return strip_mentions(text, [bot_user_id] if bot_user_id else [])


def is_from_bot(message: Mapping[str, Any], bot_user_id: str | None, bot_id: str | None) -> bool:
    return bool(
        (bot_id and message.get("bot_id") == bot_id)
        or (bot_user_id and message.get("user") == bot_user_id)
    )


def thread_turns(
    messages: Iterable[Mapping[str, Any]],
    *,
    before_ts: str,
    bot_user_id: str | None,
    bot_id: str | None,
    skip_ts: Iterable[str] = (),
) -> list[ChatTurn]:
    """Earlier messages of a thread as user/assistant turns, oldest first.

    Only messages strictly before `before_ts` count: the question itself and
    anything posted after it (such as the bot's own placeholder) are left out.
    """
    skip = set(skip_ts)
    turns = []
    for message in sorted(messages, key=lambda m: float(m.get("ts", "0"))):
        ts = str(message.get("ts", ""))
        if not ts or ts in skip or float(ts) >= float(before_ts):
            continue
        text = str(message.get("text") or "")
        if is_from_bot(message, bot_user_id, bot_id):
            if text:
                turns.append(ChatTurn("assistant", text))
        elif message.get("bot_id") or message.get("subtype"):
            continue  # other bots and system messages are not the conversation
        else:
            text = strip_mention(text, bot_user_id)
            if text:
                turns.append(ChatTurn("user", text))
    return turns
