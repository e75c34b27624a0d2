"""Chat-format JSONL, written fast: the same bytes as jsonl.dumps_jsonl, without its per-line cost.

A dataset has a line per example, so how a line is written shows in how long
curation takes: json.dumps builds a new encoder on every call once an option is
set, and each message would first become a dict. Here the C string encoder that
json itself uses writes each message directly, and the system prompt, the same
in every line, is written once.
"""

import json
import json.encoder
from collections.abc import Iterable, Sequence

from curation.dataset.examples import ChatMessage

# What json.dumps(line, ensure_ascii=False) uses, made once.
_ENCODER = json.JSONEncoder(ensure_ascii=False)
_STRING = json.encoder.encode_basestring


def dumps_chat_jsonl(conversations: Iterable[Sequence[ChatMessage]]) -> bytes:
    """dumps_jsonl({"messages": [m.as_json() for m in messages]} for each
    conversation), byte for byte."""
    return b"".join(map(ChatLines().line, conversations))


class ChatLines:
    """One conversation's JSONL line at a time, so a line can be written where
    its example is built (in a worker) and the file joined from them later."""

    def __init__(self) -> None:
        # First messages without a weight (only those: True == 1, so a
        # weighted one could pass for another).
        self._first: dict[ChatMessage, str] = {}

    def line(self, messages: Sequence[ChatMessage]) -> bytes:
        """The line dumps_chat_jsonl writes for `messages`, newline included."""
        if not messages:
            return b'{"messages": []}\n'
        first = messages[0]
        head = self._first.get(first) if first.weight is None else None
        if head is None:
            head = _message_json(first)
            if first.weight is None:
                self._first[first] = head
        parts = [head, *map(_message_json, messages[1:])]
        return ('{"messages": [' + ", ".join(parts) + "]}\n").encode("utf-8")


# How a message of each role chat examples use starts, written once.
_OPENING = {
    role: f'{{"role": {_STRING(role)}, "content": ' for role in ("system", "user", "assistant")
}


def _message_json(message: ChatMessage) -> str:
    role, content, weight = message
    if weight is not None and type(weight) is not int:
        return _ENCODER.encode(message.as_json())  # whatever json makes of it
    opening = _opening(role)
    if weight is None:
        return opening + _STRING(content) + "}"
    return f'{opening}{_STRING(content)}, "weight": {weight}}}'


def dpo_line(prompt: Sequence[ChatMessage], preferred: str, non_preferred: str) -> bytes:
    """The line dumps_jsonl writes for a preference pair's as_json(): the
    prompt's messages without weights (DPO input is all context), then each
    answer as one assistant message."""
    messages = ", ".join(_opening(m.role) + _STRING(m.content) + "}" for m in prompt)
    answer = _OPENING["assistant"]
    return (
        f'{{"input": {{"messages": [{messages}]}}, '
        f'"preferred_output": [{answer}{_STRING(preferred)}}}], '
        f'"non_preferred_output": [{answer}{_STRING(non_preferred)}}}]}}\n'
    ).encode()


def _opening(role: str) -> str:
    return _OPENING.get(role) or f'{{"role": {_STRING(role)}, "content": '
