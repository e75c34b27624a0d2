"""Fitting examples into the base model's per-example token limit.

A thread can grow long; the rated reply and its question are what matter, so
the oldest context turns go first, and only an example whose question and
reply alone are too long is refused.
"""

from itertools import accumulate

from curation.dataset.examples import ChatMessage, Rejection
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
        for message in messages:
            content = message.content
            if message.role == "system":
                tokens = self._system.get(content)
                if tokens is None:
                    tokens = self._system[content] = len(encode(content))
            else:
                tokens = len(encode(content))
            counts.append(overhead[message.role] + tokens)
        return counts


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
