"""JSONL files: written byte-for-byte reproducibly, checked line by line with line numbers."""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from curation.base_models import OPENAI_MODELS
from curation.chat_format import chat_problems, preference_problems
from curation.errors import CurationError
from curation.tokens import count_chat_tokens

# The longest example any known base model accepts, for the cheap size check.
LARGEST_TOKEN_LIMIT = max(limit for limit, _ in OPENAI_MODELS.values())


def dumps_jsonl(lines: Iterable[object]) -> bytes:
    """One JSON object per line, in real UTF-8. Callers build every object in a
    fixed key order, so equal data gives equal bytes, file hashes and dataset ids."""
    return b"".join(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n" for line in lines)


@dataclass
class FileCheck:
    """Everything wrong with a training file, for `voiceloop validate`."""

    lines: int = 0
    kind: str = ""
    problems: list[str] = field(default_factory=list)


def check_training_file(
    path: Path, *, model: str | None = None, token_limit: int | None = None
) -> FileCheck:
    """Check every line of a chat (SFT) or preference (DPO) file, as the
    provider would, and collect every problem with its line number.

    With a model and token limit, chat lines longer than the limit are
    problems too. The file is read a line at a time, so a huge file or line
    costs no more memory than that line.
    """
    result = FileCheck()
    byte_cap = max_line_bytes(token_limit)
    try:
        with path.open("rb") as file:
            for number, raw in enumerate(file, start=1):
                result.lines += 1
                where = f"{path}:{number}"
                problems = _line_problems(raw, byte_cap, result, model, token_limit)
                result.problems += [f"{where}: {p}" for p in problems]
    except OSError as e:
        raise CurationError(f"{path}: cannot read it ({e.strerror or type(e).__name__})") from e
    if result.lines == 0:
        result.problems.append(f"{path}: the file has no examples")
    return result


def max_line_bytes(token_limit: int | None) -> int:
    """A line longer than this cannot fit any base model, whatever its text: no
    token covers more than a few dozen bytes of real text."""
    return (token_limit or LARGEST_TOKEN_LIMIT) * 32


def _line_problems(
    raw: bytes, byte_cap: int, result: FileCheck, model: str | None, token_limit: int | None
) -> list[str]:
    if len(raw) > byte_cap:
        # Parsing and counting would only confirm it, slowly.
        return [f"line is {len(raw) / 1_000_000:.1f} MB, more than any example can hold"]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return [f"not UTF-8 (byte {e.start + 1})"]
    if not text.strip():
        return ["blank line; JSONL needs one object per line"]
    try:
        line = json.loads(text)
    except json.JSONDecodeError as e:
        return [f"not JSON ({e.msg}, column {e.colno})"]
    except (ValueError, RecursionError) as e:
        # Integers longer than Python converts, or nesting deeper than it parses.
        return [f"not JSON Python can read ({type(e).__name__})"]
    kind = _kind(line)
    if kind is None:
        return ['neither a chat line ("messages") nor a DPO line ("input")']
    result.kind = result.kind or kind
    if kind != result.kind:
        return [f"a {kind} line in a {result.kind} file"]
    problems = chat_problems(line) if kind == "chat" else preference_problems(line)
    if not problems and kind == "chat" and model and token_limit:
        messages = cast(Mapping[str, list[Mapping[str, object]]], line)["messages"]
        tokens = count_chat_tokens(messages, model)
        if tokens > token_limit:
            problems.append(f"{tokens:,} tokens, over {model}'s limit of {token_limit:,}")
    return problems


def _kind(line: object) -> str | None:
    if isinstance(line, Mapping) and "messages" in line:
        return "chat"
    if isinstance(line, Mapping) and "input" in line:
        return "dpo"
    return None
