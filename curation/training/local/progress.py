"""The trainer process's progress file: one JSON object a line, appended by the
trainer and read by the bot from where it last stopped, so a restarted bot picks
up a run in flight where it left off."""

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

Kind = Literal["status", "progress", "checkpoint", "log", "done", "failed"]
# Lines over this are not progress; stop rather than read a runaway file into memory.
_MAX_LINE = 1 << 20


@dataclass(frozen=True, slots=True)
class ProgressLine:
    kind: Kind
    message: str
    data: dict[str, object]
    offset: int  # where the line starts in the file: the same line, the same offset


class ProgressWriter:
    """Appends lines and flushes each, so a kill loses at most the line being written."""

    def __init__(self, path: Path) -> None:
        self._file: IO[str] = path.open("a", encoding="utf-8")

    def write(self, kind: Kind, message: str, **data: object) -> None:
        line = {"kind": kind, "message": message, "at": time.time(), **data}
        self._file.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_progress(path: Path, offset: int) -> tuple[list[ProgressLine], int]:
    """Complete lines from byte `offset` on, and the offset to read from next time.
    A line still being written (no newline yet) waits for the next read; a line that
    is not JSON (a process killed mid-write) is skipped."""
    try:
        with path.open("rb") as f:
            f.seek(offset)
            chunk = f.read()
    except FileNotFoundError:
        return [], offset
    end = chunk.rfind(b"\n") + 1
    lines = []
    start = offset
    for raw in chunk[:end].splitlines(keepends=True):
        at, start = start, start + len(raw)
        if not raw.strip() or len(raw) > _MAX_LINE:
            continue
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        if isinstance(item, dict) and item.get("kind") in _KINDS:
            kind = item.pop("kind")
            message = str(item.pop("message", ""))
            item.pop("at", None)
            lines.append(ProgressLine(kind, message, item, at))
    return lines, offset + end


_KINDS = frozenset(("status", "progress", "checkpoint", "log", "done", "failed"))
