"""Fitting examples to the per-example token limit."""

from curation.dataset.chat_format import build_example
from curation.dataset.examples import Example, Rejection
from curation.dataset.labels import LabelPolicy, label_reply
from curation.dataset.limits import fit_examples, message_tokens
from curation.dataset.tokens import count_chat_tokens
from storage.records import ChatTurn
from tests.curation.dataset.factories import SYSTEM, labeled

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
    examples = [example_with_context(0), example_with_context(5, "2.2")]
    fitted, trimmed = fit_examples(examples, 100_000, MODEL)
    assert trimmed == 0
    for example in fitted.kept:
        messages = [m.as_json() for m in example.messages]
        assert example.tokens == count_chat_tokens(messages, MODEL)


def test_the_oldest_context_goes_first() -> None:
    example = example_with_context(6)
    counts = message_tokens([example], MODEL)[0]
    # Room for everything but the two oldest turns.
    limit = 3 + sum(counts) - counts[1] - counts[2]
    fitted, trimmed = fit_examples([example], limit, MODEL)
    assert trimmed == 1
    kept = fitted.kept[0]
    assert [m.content for m in kept.messages] == [
        m.content for m in example.messages[:1] + example.messages[3:]
    ]
    assert kept.tokens == count_chat_tokens([m.as_json() for m in kept.messages], MODEL) <= limit


def test_an_example_too_long_without_context_is_refused() -> None:
    example = example_with_context(2)
    fitted, _ = fit_examples([example], 40, MODEL)
    assert fitted.kept == []
    assert isinstance(fitted.rejected[0], Rejection)
    assert fitted.rejected[0].reason == "too_long"
    assert "limit 40" in fitted.rejected[0].detail
