"""Builds the model request from a system prompt, thread history and question, on a token budget."""

from dataclasses import dataclass
from functools import lru_cache

from curation import (
    TOKENS_PER_MESSAGE,
    TOKENS_REPLY_PRIMING,
    count_tokens,
    truncate_to_tokens,
)
from storage import ChatTurn

# Leave a little room so the question is never squeezed to nothing by history.
MIN_QUESTION_TOKENS = 64


@dataclass(frozen=True)
class ChatRequest:
    messages: list[dict[str, str]]
    context: tuple[ChatTurn, ...]  # history that made it in, oldest first
    question: str  # the question as sent (possibly cut to fit)


def build_request(
    system_prompt: str,
    history: list[ChatTurn],
    question: str,
    *,
    model: str,
    budget: int,
) -> ChatRequest:
    """Fits system prompt + question + as much recent history as the budget allows.

    The question is cut (never dropped) when it alone exceeds what is left;
    history is dropped oldest first, a whole turn at a time.
    """
    remaining = budget - TOKENS_REPLY_PRIMING - _system_cost(system_prompt, model)
    room = max(remaining - _cost("user", "", model), MIN_QUESTION_TOKENS)
    question = _fit(question, room, model)
    remaining -= _cost("user", question, model)

    kept: list[ChatTurn] = []
    for turn in reversed(history):
        # Cutting first bounds the cost of counting a huge earlier message.
        fitted = truncate_to_tokens(turn.content, remaining, model)
        cost = _cost(turn.role, fitted, model)
        if fitted != turn.content or cost > remaining:
            break
        kept.append(turn)
        remaining -= cost
    kept.reverse()

    messages = [{"role": "system", "content": system_prompt}]
    messages += [{"role": t.role, "content": t.content} for t in kept]
    messages.append({"role": "user", "content": question})
    return ChatRequest(messages=messages, context=tuple(kept), question=question)


# Every reply sends the same system prompt until a promotion or rollback
# swaps it. Counting the shipped voice guide's 2,030 tokens again for each
# reply made budgeting a six-turn thread take 272 µs instead of 29 µs. A few
# entries cover a swap and a way back.
@lru_cache(maxsize=8)
def _system_cost(prompt: str, model: str) -> int:
    return _cost("system", prompt, model)


def _cost(role: str, content: str, model: str) -> int:
    """Tokens one message takes, as the cookbook counts them."""
    return TOKENS_PER_MESSAGE + count_tokens(role, model) + count_tokens(content, model)


def _fit(text: str, limit: int, model: str) -> str:
    """Cuts text to `limit` tokens as re-encoded: a cut can tokenize differently."""
    for _ in range(4):
        text = truncate_to_tokens(text, limit, model)
        excess = count_tokens(text, model) - limit
        if excess <= 0:
            break
        limit -= excess
    return text
