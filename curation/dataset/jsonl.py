"""JSONL files: written byte-for-byte reproducibly, checked line by line with line numbers."""

import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

import orjson

from curation.dataset.base_models import MIN_TRAINING_EXAMPLES, OPENAI_MODELS
from curation.dataset.chat_format import chat_problems, preference_problems
from curation.dataset.tokens import count_chat_tokens
from curation.errors import CurationError

# The longest example any known base model accepts, for the cheap size check.
LARGEST_TOKEN_LIMIT = max(limit for limit, _ in OPENAI_MODELS.values())

# How much of an over-long line is read at a time while skipping past it.
_SKIP_CHUNK = 1 << 20

Message = Mapping[str, object]


def dumps_jsonl(lines: Iterable[object]) -> bytes:
    """One compact JSON object per line, in real UTF-8. Callers build every
    object in a fixed key order, so equal data gives equal bytes, file hashes
    and dataset ids."""
    # Each line straight into one buffer: orjson's bytes for a line hold a
    # 4 KB allocation, so a list of them took seven times the file's size in
    # memory and took ten times as long to make and join.
    buffer = io.BytesIO()
    write = buffer.write
    for line in lines:
        write(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE))
    return buffer.getvalue()


@dataclass
class FileCheck:
    """Everything wrong with a training file, for `voiceloop validate`."""

    lines: int = 0
    kind: str = ""
    examples: int = 0
    """Lines with no problem."""
    problems: list[str] = field(default_factory=list)
    problem_lines: int = 0
    """Lines with at least one problem."""
    warnings: list[str] = field(default_factory=list)
    """Worth knowing, but no reason to refuse the file."""


def check_training_file(
    path: Path, *, model: str | None = None, token_limit: int | None = None
) -> FileCheck:
    """Check every line of a chat (SFT) or preference (DPO) file, as the
    provider would, and collect every problem with its line number.

    With a model and token limit, lines longer than the limit are problems
    too. The file is read a line at a time, and no more of a line than any
    example could hold, so a huge file or line costs little memory.
    """
    result = FileCheck()
    byte_cap = max_line_bytes(token_limit)
    try:
        with path.open("rb") as file:
            for number, (raw, size) in enumerate(_capped_lines(file, byte_cap), start=1):
                result.lines += 1
                where = f"{path}:{number}"
                problems = _line_problems(raw, size, byte_cap, result, model, token_limit)
                result.problems += [f"{where}: {p}" for p in problems]
                if problems:
                    result.problem_lines += 1
                else:
                    result.examples += 1
    except OSError as e:
        raise CurationError(f"{path}: cannot read it ({e.strerror or type(e).__name__})") from e
    if result.lines == 0:
        result.problems.append(f"{path}: the file has no examples")
    elif result.kind and result.examples < MIN_TRAINING_EXAMPLES:
        result.warnings.append(
            f"{path}: {result.examples:,} valid example{'' if result.examples == 1 else 's'}; "
            f"OpenAI fine-tuning needs at least {MIN_TRAINING_EXAMPLES} in a training file "
            "(a validation file may have fewer)"
        )
    return result


def max_line_bytes(token_limit: int | None) -> int:
    """A line longer than this cannot fit any base model, whatever its text: no
    token covers more than a few dozen bytes of real text."""
    return (token_limit or LARGEST_TOKEN_LIMIT) * 32


def _capped_lines(file: BinaryIO, byte_cap: int) -> Iterator[tuple[bytes, int]]:
    """Each line with its length in bytes; of a line over the cap, only its
    first byte_cap + 1 bytes are kept, since it is refused unread anyway."""
    while raw := file.readline(byte_cap + 1):
        size, chunk = len(raw), raw
        while size > byte_cap and chunk and not chunk.endswith(b"\n"):
            chunk = file.readline(_SKIP_CHUNK)
            size += len(chunk)
        yield raw, size


def _line_problems(
    raw: bytes,
    size: int,
    byte_cap: int,
    result: FileCheck,
    model: str | None,
    token_limit: int | None,
) -> list[str]:
    if size > byte_cap:
        # Parsing and counting would only confirm it, slowly.
        return [f"line is {size / 1_000_000:.1f} MB, more than any example can hold"]
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
    if not problems and model and token_limit:
        tokens = _tokens(line, kind, model)
        if tokens > token_limit:
            problems.append(f"{tokens:,} tokens, over {model}'s limit of {token_limit:,}")
    return problems


def _tokens(line: Mapping[str, object], kind: str, model: str) -> int:
    """Tokens of a valid line: a chat line's messages, or a DPO line's input
    with the longer of its two outputs, since training sees each pair whole."""
    if kind == "chat":
        return count_chat_tokens(cast(Sequence[Message], line["messages"]), model)
    prompt = cast(Sequence[Message], cast(Message, line["input"])["messages"])
    outputs = (
        cast(Sequence[Message], line[side]) for side in ("preferred_output", "non_preferred_output")
    )
    return max(count_chat_tokens([*prompt, *output], model) for output in outputs)


def _kind(line: object) -> str | None:
    if isinstance(line, Mapping) and "messages" in line:
        return "chat"
    if isinstance(line, Mapping) and "input" in line:
        return "dpo"
    return None
