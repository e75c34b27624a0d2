"""Fitting examples to the per-example token limit."""

from curation.dataset.examples import Example
from curation.dataset.labels import LabelPolicy, label_reply
from curation.dataset.limits import MessageTokens, context_to_drop
from curation.dataset.tokens import TOKENS_REPLY_PRIMING, count_chat_tokens
from storage.records import ChatTurn
from tests.curation.dataset.factories import SYSTEM, build_example, labeled

MODEL = "gpt-4.1-mini-2025-04-14"


def example_with_context(turns: int, ts: str = "1.1") -> Example:
    context = tuple(
        ChatTurn("user" if i % 2 == 0 else "assistant", f"turn {i} " + "trail mix " * 20)
        for i in range(turns)
    )
    reply = labeled(ts, context=context)
    built = build_example(reply, label_reply(reply, LabelPolicy()), SYSTEM)
    assert isinstance(built, Example)
    return built


def test_counts_agree_with_the_chat_token_rule() -> None:
    count = MessageTokens(MODEL)
    for example in [example_with_context(0), example_with_context(5, "2.2")]:
        counts = count(example.messages)
        messages = [m.as_json() for m in example.messages]
        assert TOKENS_REPLY_PRIMING + sum(counts) == count_chat_tokens(messages, MODEL)
        assert context_to_drop(counts, 100_000) == (0, count_chat_tokens(messages, MODEL))


def test_the_oldest_context_goes_first() -> None:
    example = example_with_context(6)
    counts = MessageTokens(MODEL)(example.messages)
    # Room for everything but the two oldest turns.
    limit = 3 + sum(counts) - counts[1] - counts[2]
    dropped, tokens = context_to_drop(counts, limit)
    assert dropped == 2
    kept = example.messages[:1] + example.messages[3:]
    assert tokens == count_chat_tokens([m.as_json() for m in kept], MODEL) <= limit


def test_an_example_too_long_without_context_drops_every_turn_and_stays_over() -> None:
    example = example_with_context(2)
    counts = MessageTokens(MODEL)(example.messages)
    dropped, tokens = context_to_drop(counts, 40)
    bare = [example.messages[0], *example.messages[-2:]]
    assert dropped == 2
    assert tokens == count_chat_tokens([m.as_json() for m in bare], MODEL) > 40
