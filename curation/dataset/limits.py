"""Fitting examples into the base model's per-example token limit.

A thread can grow long; the rated reply and its question are what matter, so
the oldest context turns go first, and only an example whose question and
reply alone are too long is refused.
"""

from itertools import accumulate

from curation.dataset.examples import ChatMessage, Example, Rejection, Sifted
from curation.dataset.tokens import (
    TOKENS_PER_MESSAGE,
    TOKENS_REPLY_PRIMING,
    count_tokens,
    encoding_for,
)


class MessageTokens:
    """Each message's share of count_chat_tokens, for one model."""

    def __init__(self, model: str) -> None:
        self._encode = encoding_for(model).encode_ordinary
        # What a message of each role costs besides its text.
        self.overhead = {
            role: TOKENS_PER_MESSAGE + count_tokens(role, model)
            for role in ("system", "user", "assistant")
        }
        # Every example starts with the same system prompt: count it once.
        self._system: dict[str, int] = {}

    def text(self, content: str) -> int:
        """A text's own tokens, without a message's overhead."""
        return len(self._encode(content))

    def __call__(self, messages: tuple[ChatMessage, ...]) -> list[int]:
        # One text at a time: tiktoken's batch call starts a thread task per
        # text, which costs more than encoding a chat message.
        overhead, encode = self.overhead, self._encode
        counts = []
        for role, content, _weight in messages:
            if role == "system":
                tokens = self._system.get(content)
                if tokens is None:
                    tokens = self._system[content] = len(encode(content))
            else:
                tokens = len(encode(content))
            counts.append(overhead[role] + tokens)
        return counts


def message_tokens(examples: list[Example], model: str) -> list[list[int]]:
    """Each message's share of count_chat_tokens, for every example."""
    count = MessageTokens(model)
    return [count(example.messages) for example in examples]


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
    dropped, tokens = context_to_drop(counts, limit)
    if tokens > limit:
        return too_long(example.key, tokens, limit)
    messages = example.messages[:1] + example.messages[1 + dropped :]
    return example._replace(messages=messages, tokens=tokens)


def context_to_drop(counts: list[int], limit: int) -> tuple[int, int]:
    """How many of the oldest context turns to drop so that an example with
    these message counts fits, and its tokens then. When even dropping every
    turn is not enough, all are dropped and the tokens are over the limit."""
    total = TOKENS_REPLY_PRIMING + sum(counts)
    if total <= limit:
        return 0, total
    # Messages are [system, *context, question, target]; drop context from the
    # oldest until what is left fits.
    context = counts[1:-2]
    for dropped, tokens in enumerate(accumulate(context, initial=0)):
        if total - tokens <= limit:
            return dropped, total - tokens
    return len(context), total - sum(context)


def too_long(key: str, bare: int, limit: int) -> Rejection:
    return Rejection(key, "too_long", f"{bare} tokens without any thread context, limit {limit}")
