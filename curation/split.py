"""The train/validation split: by thread, by hash, so it is the same on every run.

Replies in one thread share their context, so a thread goes wholly to one side;
otherwise validation would grade the model on text it trained on. A thread's
side depends only on its address, so it stays put as the dataset grows.
"""

import hashlib
from collections.abc import Callable, Mapping, Sequence

from curation.examples import Example


def thread_position(thread: str) -> float:
    """Where a thread falls in [0, 1); threads below the share go to validation."""
    digest = hashlib.sha256(thread.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_by_thread(
    examples: Sequence[Example],
    validation_share: float,
    positions: Mapping[str, float] | None = None,
) -> tuple[list[Example], list[Example]]:
    """`positions`, when given, holds thread_position of threads, made already."""
    known = positions or {}
    position = {}
    for thread in {e.thread for e in examples}:
        found = known.get(thread)
        position[thread] = thread_position(thread) if found is None else found
    held = {t for t, p in position.items() if p < validation_share}
    if validation_share > 0 and not held and len(position) > 1:
        # A small dataset can miss the share by chance; one thread is still
        # better than no validation at all: the one nearest the cut.
        held = {min(position, key=_order(position))}
    if position and len(held) == len(position):
        # Training needs something too: keep the thread furthest from the cut.
        held.discard(max(position, key=_order(position)))
    train = [e for e in examples if e.thread not in held]
    validation = [e for e in examples if e.thread in held]
    return train, validation


def _order(position: Mapping[str, float]) -> Callable[[str], tuple[float, str]]:
    # Ties (equal hashes) broken by address, so every run picks the same thread.
    return lambda thread: (position[thread], thread)
