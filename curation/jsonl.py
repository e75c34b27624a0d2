"""JSONL files: written byte-for-byte reproducibly, read back with line-numbered errors."""

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from curation.chat_format import chat_problems, preference_problems
from curation.errors import CurationError

# Checks a parsed line and returns what is wrong with it (empty when valid).
LineCheck = Callable[[object], list[str]]


def dumps_jsonl(lines: Iterable[object]) -> bytes:
    """One JSON object per line, in real UTF-8. Callers build every object in a
    fixed key order, so equal data gives equal bytes, file hashes and dataset ids."""
    return b"".join(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n" for line in lines)


def read_jsonl(path: Path, check: LineCheck) -> list[object]:
    """Parse and check every line; the first bad one stops with file:line."""
    text = _read(path)
    lines: list[object] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            raise CurationError(f"{path}:{number}: blank line; JSONL needs one object per line")
        try:
            line = json.loads(raw)
        except json.JSONDecodeError as e:
            raise CurationError(f"{path}:{number}: not JSON ({e.msg}, column {e.colno})") from e
        problems = check(line)
        if problems:
            raise CurationError(f"{path}:{number}: {'; '.join(problems)}")
        lines.append(line)
    if not lines:
        raise CurationError(f"{path}: the file has no examples")
    return lines


@dataclass
class FileCheck:
    """Everything wrong with a training file, for `voiceloop validate`."""

    lines: int = 0
    kind: str = ""
    problems: list[str] = field(default_factory=list)


def check_training_file(path: Path) -> FileCheck:
    """Check every line of a chat (SFT) or preference (DPO) file, as the
    provider would, and collect every problem with its line number."""
    result = FileCheck()
    for number, raw in enumerate(_read(path).splitlines(), start=1):
        result.lines += 1
        try:
            line = json.loads(raw)
        except json.JSONDecodeError as e:
            result.problems.append(f"{path}:{number}: not JSON ({e.msg}, column {e.colno})")
            continue
        kind = _kind(line)
        if kind is None:
            result.problems.append(
                f'{path}:{number}: neither a chat line ("messages") nor a DPO line ("input")'
            )
            continue
        result.kind = result.kind or kind
        if kind != result.kind:
            result.problems.append(f"{path}:{number}: a {kind} line in a {result.kind} file")
            continue
        check = chat_problems if kind == "chat" else preference_problems
        result.problems += [f"{path}:{number}: {p}" for p in check(line)]
    if result.lines == 0:
        result.problems.append(f"{path}: the file has no examples")
    return result


def _kind(line: object) -> str | None:
    if isinstance(line, Mapping) and "messages" in line:
        return "chat"
    if isinstance(line, Mapping) and "input" in line:
        return "dpo"
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or type(e).__name__
        raise CurationError(f"{path}: cannot read it ({reason})") from e
