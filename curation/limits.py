"""Fitting examples into the base model's per-example token limit.

A thread can grow long; the rated reply and its question are what matter, so
the oldest context turns go first, and only an example whose question and
reply alone are too long is refused.
"""

from dataclasses import replace
from itertools import accumulate

from curation.examples import Example, Rejection, Sifted
from curation.tokens import TOKENS_PER_MESSAGE, TOKENS_REPLY_PRIMING, count_tokens


def message_tokens(examples: list[Example], model: str) -> list[list[int]]:
    """Each message's share of count_chat_tokens, for every example."""
    roles = {role: count_tokens(role, model) for role in ("system", "user", "assistant")}
    # One text at a time: tiktoken's batch call starts a thread task per text,
    # which costs more than encoding a chat message.
    return [
        [TOKENS_PER_MESSAGE + roles[m.role] + count_tokens(m.content, model) for m in ex.messages]
        for ex in examples
    ]


def fit_examples(examples: list[Example], limit: int, model: str) -> tuple[Sifted, int]:
    """Examples cut to fit (with their token counts), refusals, and how many were cut."""
    result = Sifted()
    trimmed = 0
    for example, counts in zip(examples, message_tokens(examples, model), strict=True):
        fitted = fit_example(example, counts, limit)
        if isinstance(fitted, Rejection):
            result.rejected.append(fitted)
            continue
        trimmed += len(fitted.messages) < len(example.messages)
        result.kept.append(fitted)
    return result, trimmed


def fit_example(example: Example, counts: list[int], limit: int) -> Example | Rejection:
    total = TOKENS_REPLY_PRIMING + sum(counts)
    if total <= limit:
        return replace(example, tokens=total)
    # Messages are [system, *context, question, target]; drop context from the
    # oldest until what is left fits.
    context = counts[1:-2]
    kept_from = next(
        (i for i, dropped in enumerate(accumulate(context, initial=0)) if total - dropped <= limit),
        None,
    )
    if kept_from is None:
        bare = total - sum(context)
        return Rejection(
            example.key, "too_long", f"{bare} tokens without any thread context, limit {limit}"
        )
    messages = example.messages[:1] + example.messages[1 + kept_from :]
    tokens = total - sum(context[:kept_from])
    return replace(example, messages=messages, tokens=tokens)
