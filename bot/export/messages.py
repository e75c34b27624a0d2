"""Exported Slack messages to imported replies and votes: pure functions, problems as values."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from bot.export.message_text import message_text
from bot.slack_text import reaction_source, reaction_verdict, strip_mentions
from storage import ChatTurn, Reply, Vote

# Slack stores at most 40,000 characters of message text; anything longer was
# not written by Slack and would only bloat the database.
MAX_TEXT_CHARS = 40_000
# Older turns add little to a voice example and the curation token limits trim
# them anyway.
MAX_CONTEXT_TURNS = 20
# People's messages; joins, topic changes and other system events are not.
_HUMAN_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}
_AUTHOR_SUBTYPES = _HUMAN_SUBTYPES | {"bot_message"}

Speaker = Literal["human", "author", "other"]

NO_QUESTION = "reply with no question before it"
NO_TEXT = "reply with no text"
CONTESTED = "good and bad from the same person"
BY_AUTHOR_OR_BOT = "reaction by an import author or a bot"
ON_SKIPPED_REPLY = "rating on a skipped reply"


@dataclass(frozen=True)
class ImportPolicy:
    """Whose messages count as replies and which reactions count as votes.

    Emoji sets arrive as values (curation does not read the bot's settings);
    `authors` holds user and bot ids, with bot users' ids already added.
    """

    authors: frozenset[str]
    good_emoji: frozenset[str]
    bad_emoji: frozenset[str]
    bots: frozenset[str] = frozenset()  # users marked is_bot in users.json
    max_context_turns: int = MAX_CONTEXT_TURNS

    def verdict(self, reaction: str) -> int | None:
        """+1, -1 or None, reading `+1::skin-tone-2` as `+1` as the live bot does."""
        return reaction_verdict(reaction, self.good_emoji, self.bad_emoji)


@dataclass(frozen=True)
class Problem:
    """Something in the export that was skipped: where it is and what is wrong."""

    path: str
    detail: str


# Slots, and not frozen: an import makes one per message, hundreds of thousands.
@dataclass(slots=True)
class ExportMessage:
    """The parts of one exported message the import uses."""

    ts: str
    seconds: float  # ts as a number, for ordering and the reply's time
    day: date
    speaker: Speaker
    user: str | None
    text: str
    thread_ts: str | None
    in_channel: bool  # shown in the channel itself, not only inside a thread
    reactions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # A person's text without mentions of the authors: what they asked, if anything.
    question: str = ""


@dataclass
class DayMessages:
    messages: list[ExportMessage] = field(default_factory=list)
    seen: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    # Who wrote what, so an import that finds no reply can say whose ids to try.
    senders: Counter[str] = field(default_factory=Counter)  # user id, else bot id
    bot_senders: Counter[str] = field(default_factory=Counter)
    authored: int = 0  # messages by an import author, whatever became of them


def parse_day(path: str, day: date, data: Iterable[Any], policy: ImportPolicy) -> DayMessages:
    """One day file's messages, from its JSON array's items as they are parsed;
    bad messages are skipped and reported by index."""
    parsed = DayMessages()
    for index, raw in enumerate(data):
        parsed.seen += 1
        if not isinstance(raw, dict):
            reason = "not a JSON object"
            parsed.skipped[reason] += 1
            parsed.problems.append(Problem(path, f"message [{index}]: {reason}; skipped"))
            continue
        # isinstance first: a malformed id (a list, say) cannot be looked up in a set.
        user, bot_id = raw.get("user"), raw.get("bot_id")
        user = user if isinstance(user, str) else None
        bot_id = bot_id if isinstance(bot_id, str) else None
        by_author = user in policy.authors or bot_id in policy.authors
        _count_sender(user, bot_id, by_author, policy, parsed)
        message, reason = _message(raw, day, user, by_author, policy)
        if message is None:
            parsed.skipped[reason] += 1
            parsed.problems.append(Problem(path, f"message [{index}]: {reason}; skipped"))
        elif message.speaker != "other":
            parsed.messages.append(message)
        elif by_author:
            # A join, topic change or other event the author caused: no reply.
            parsed.skipped[f"author's {raw.get('subtype')} event, not a reply"] += 1
    return parsed


def _count_sender(
    user: str | None, bot_id: str | None, by_author: bool, policy: ImportPolicy, parsed: DayMessages
) -> None:
    sender = user if user is not None else bot_id
    if sender is None:
        return
    parsed.senders[sender] += 1
    if bot_id is not None or sender in policy.bots:
        parsed.bot_senders[bot_id if bot_id is not None else sender] += 1
    parsed.authored += by_author


def _message(
    raw: dict[str, Any], day: date, user: str | None, by_author: bool, policy: ImportPolicy
) -> tuple[ExportMessage | None, str]:
    ts = raw.get("ts")
    seconds = _timestamp(ts)
    if seconds is None or not isinstance(ts, str):
        return None, "no valid ts"
    text = message_text(raw)
    if len(text) > MAX_TEXT_CHARS:
        return None, f"text longer than {MAX_TEXT_CHARS:,} characters"
    thread_ts = raw.get("thread_ts")
    thread_ts = thread_ts if _timestamp(thread_ts) is not None else None
    subtype = raw.get("subtype")
    speaker = _speaker(subtype, user, raw.get("bot_id"), by_author, policy)
    message = ExportMessage(
        ts=ts,
        seconds=seconds,
        day=day,
        speaker=speaker,
        user=user,
        text=text,
        thread_ts=thread_ts,
        in_channel=thread_ts in (None, ts) or subtype == "thread_broadcast",
        # Only the authors' reactions become votes.
        reactions=_reactions(raw.get("reactions")) if speaker == "author" else (),
        question=_without_author_mentions(text, policy) if speaker == "human" else "",
    )
    return message, ""


def _speaker(
    subtype: object, user: str | None, bot_id: object, by_author: bool, policy: ImportPolicy
) -> Speaker:
    if by_author and subtype in _AUTHOR_SUBTYPES:
        return "author"
    if user and not bot_id and user not in policy.bots and subtype in _HUMAN_SUBTYPES:
        return "human"
    return "other"


def _reactions(raw: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    # Slack writes well-formed reactions; anything else carries no usable vote.
    if not isinstance(raw, list):
        return ()
    found = []
    for reaction in raw:
        if isinstance(reaction, dict):
            name, users = reaction.get("name"), reaction.get("users")
            if isinstance(name, str) and isinstance(users, list):
                found.append((name, tuple([u for u in users if isinstance(u, str)])))
    return tuple(found)


# Slack ts values are seconds since 1970 with microseconds; anything past this
# (year 9999) or not finite cannot be one, and would break date arithmetic.
_LATEST_TS = 253_402_300_799


def _timestamp(value: object) -> float | None:
    """A ts string as seconds, or None when it is no ts."""
    if not isinstance(value, str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= _LATEST_TS else None


@dataclass
class ChannelHistory:
    replies: list[Reply] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_votes: Counter[str] = field(default_factory=Counter)


def channel_history(
    channel: str, messages: Iterable[ExportMessage], policy: ImportPolicy
) -> ChannelHistory:
    """Replies (with question and thread context) and their votes for one channel."""
    history = ChannelHistory()
    ordered = sorted({m.ts: m for m in messages}.values(), key=lambda m: m.seconds)
    threads: dict[str, list[ExportMessage]] = {}
    for message in ordered:
        if message.thread_ts is not None:
            threads.setdefault(message.thread_ts, []).append(message)
    for thread in threads.values():
        _answer_thread(channel, thread, policy, history)
    _answer_channel(channel, [m for m in ordered if m.in_channel], policy, history)
    history.replies.sort(key=lambda r: float(r.ts))
    return history


def _answer_thread(
    channel: str, thread: list[ExportMessage], policy: ImportPolicy, history: ChannelHistory
) -> None:
    turns: list[ChatTurn] = []
    question: tuple[ExportMessage, int] | None = None  # the message and the turns before it
    for message in thread:
        if message.speaker == "human":
            if message.question:
                question = (message, len(turns))
                turns.append(ChatTurn("user", message.question))
        elif message.ts != message.thread_ts:  # the thread's root is a channel message
            if question is None:
                _skip(NO_QUESTION, message, policy, history)
            else:
                asked, before = question
                context = turns[:before][-policy.max_context_turns :]
                _add_reply(channel, message, asked, tuple(context), policy, history)
            if message.text:
                turns.append(ChatTurn("assistant", message.text))
        elif message.text:
            turns.append(ChatTurn("assistant", message.text))


def _answer_channel(
    channel: str, shown: list[ExportMessage], policy: ImportPolicy, history: ChannelHistory
) -> None:
    asked: ExportMessage | None = None
    for message in shown:
        if message.speaker == "human":
            if message.question:
                asked = message
        elif message.thread_ts in (None, message.ts):  # broadcasts were answered in the thread
            # Outside threads only a recent question is taken to be the one answered.
            if asked is None or asked.day < message.day - timedelta(days=1):
                _skip(NO_QUESTION, message, policy, history)
            else:
                _add_reply(channel, message, asked, (), policy, history)


def _add_reply(
    channel: str,
    message: ExportMessage,
    asked: ExportMessage,
    context: tuple[ChatTurn, ...],
    policy: ImportPolicy,
    history: ChannelHistory,
) -> None:
    if not message.text.strip():
        _skip(NO_TEXT, message, policy, history)
        return
    created_at = datetime.fromtimestamp(message.seconds, UTC).isoformat(timespec="milliseconds")
    history.replies.append(
        Reply(
            channel=channel,
            ts=message.ts,
            thread_ts=message.thread_ts,
            asked_by=asked.user,
            question=asked.question,
            context=context,
            text=message.text,
            origin="import",
            created_at=created_at,
        )
    )
    history.votes += reaction_votes(channel, message, policy, created_at, history.skipped_votes)


def _skip(
    reason: str, message: ExportMessage, policy: ImportPolicy, history: ChannelHistory
) -> None:
    """Count a reply that was not imported, and the ratings people gave it, which
    are lost with it."""
    history.skipped[reason] += 1
    ratings = sum(
        1
        for name, users in message.reactions
        if policy.verdict(name) is not None
        for user in users
        if user not in policy.authors and user not in policy.bots
    )
    if ratings:
        history.skipped_votes[ON_SKIPPED_REPLY] += ratings


def reaction_votes(
    channel: str,
    message: ExportMessage,
    policy: ImportPolicy,
    updated_at: str,
    skipped: Counter[str],
) -> list[Vote]:
    """One vote per person who left a rating emoji; a person who left both a good
    and a bad one gave no verdict, so their vote is left out (and counted)."""
    verdicts: dict[str, dict[int, str]] = {}
    for name, users in message.reactions:
        value = policy.verdict(name)
        if value is None:
            continue
        for user in users:
            if user in policy.authors or user in policy.bots:
                skipped[BY_AUTHOR_OR_BOT] += 1
            else:
                verdicts.setdefault(user, {}).setdefault(value, reaction_source(name))
    votes = []
    for user, by_value in verdicts.items():
        if len(by_value) > 1:
            skipped[CONTESTED] += 1
            continue
        [(value, source)] = by_value.items()
        votes.append(Vote(channel, message.ts, user, value, source, updated_at))
    return votes


def _without_author_mentions(text: str, policy: ImportPolicy) -> str:
    return strip_mentions(text, policy.authors)
