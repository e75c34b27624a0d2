"""Small builders for labeled replies, so each test states only what it is about."""

from curation.dataset.chat_format import (
    chat_messages,
    example_of,
    no_question,
    slack_texts,
    target_and_rejected,
)
from curation.dataset.examples import ChatMessage, Example, LabeledReply, Rejection
from curation.dataset.labels import Label
from storage.records import ChatTurn, Correction, Reply, Vote

SYSTEM = "You are Brightside. Answer in Fernleaf's voice."


def labeled(
    ts: str = "100.1",
    *,
    text: str = "Yes, use a footprint. It protects the floor from rocks and roots.",
    question: str = "Should I use a footprint under my tent?",
    up: int = 1,
    down: int = 0,
    corrections: tuple[str, ...] = (),
    channel: str = "C1",
    thread_ts: str | None = None,
    context: tuple[ChatTurn, ...] = (),
    created_at: str = "2026-01-01T00:00:00.000+00:00",
) -> LabeledReply:
    reply = Reply(
        channel=channel,
        ts=ts,
        thread_ts=thread_ts,
        text=text,
        question=question,
        context=context,
        created_at=created_at,
    )
    votes = tuple(
        Vote(channel, ts, f"U{i}", 1 if i < up else -1, "reaction:+1", created_at)
        for i in range(up + down)
    )
    fixes = tuple(
        Correction(channel, ts, f"UC{i}", fix, f"2026-02-0{i + 1}T00:00:00.000+00:00")
        for i, fix in enumerate(corrections)
    )
    return LabeledReply(reply, votes, fixes)


def distinct(i: int) -> str:
    # Different enough from each other that dedup keeps them all.
    trails = ["Ridgeline", "Cedar Loop", "Fern Gully", "Bluff Top", "Mill Creek", "Otter Bend"]
    gear = ["a shell", "two liters of water", "a headlamp", "wool socks", "a map", "sunscreen"]
    return (
        f"For {trails[i % 6]} trip {i}, bring {gear[i % 5]} and {gear[(i + 2) % 6]}; "
        f"the climb is {i * 37 % 900} feet over {i % 7 + 2} miles."
    )


def build_example(labeled: LabeledReply, label: Label, system_prompt: str) -> Example | Rejection:
    """The example screening builds for a kept reply, before it is cleaned,
    checked and fitted: the system prompt, the thread as the bot saw it, the
    question, and the target reply last."""
    missing = no_question(labeled)
    if missing is not None:
        return missing
    target, rejected = target_and_rejected(labeled, label)
    system = ChatMessage("system", system_prompt)
    messages = chat_messages(labeled, slack_texts(labeled, target), system)
    return example_of(labeled, label, messages, rejected)
