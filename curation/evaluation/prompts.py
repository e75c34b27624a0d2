"""Held-out prompts: the validation conversations of a dataset version, without their answers."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from curation.dataset.files import VALIDATION
from curation.errors import CurationError
from storage import DatasetVersion


@dataclass(frozen=True, slots=True)
class HeldOutPrompt:
    key: str  # stable across restarts, so a resumed gate skips what it judged
    # The conversation up to and including the question; no system prompt:
    # each side answers with its own.
    messages: tuple[dict[str, str], ...]

    @property
    def question(self) -> str:
        return self.messages[-1]["content"]

    def transcript(self) -> str:
        """The conversation as the judge reads it."""
        return "\n\n".join(f"{m['role'].upper()}: {m['content']}" for m in self.messages)


def held_out_prompts(dataset: DatasetVersion, limit: int) -> list[HeldOutPrompt]:
    """The first `limit` validation conversations, in file order."""
    path = Path(dataset.path) / VALIDATION
    if not path.exists():
        return []
    prompts: list[HeldOutPrompt] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise CurationError(f"{path}: cannot read the validation set ({e.strerror or e})") from e
    for line in lines:
        if len(prompts) >= limit:
            break
        messages = json.loads(line)["messages"]
        turns = tuple(
            {"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"
        )[:-1]
        if not turns or turns[-1]["role"] != "user":
            continue
        key = hashlib.sha256(json.dumps(turns, sort_keys=True).encode()).hexdigest()[:16]
        if key not in seen:
            seen.add(key)
            prompts.append(HeldOutPrompt(key, turns))
    return prompts
