"""The train/validation split: by thread, by hash, so it is the same on every run.

Replies in one thread share their context, so a thread goes wholly to one side;
otherwise validation would grade the model on text it trained on. A thread's
side depends only on its address, so it stays put as the dataset grows.

Threads linked by similar examples (kept ones that still share an LSH band,
see curation.dataset.dedup) go together too: a group of linked threads takes the side
of its member nearest the start, so a reworded answer never sits on one side
while its original sits on the other.
"""

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

from curation.dataset.examples import Example


def thread_position(thread: str) -> float:
    """Where a thread falls in [0, 1); threads below the share go to validation."""
    digest = hashlib.sha256(thread.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_by_thread(
    examples: Sequence[Example],
    validation_share: float,
    linked: Iterable[tuple[str, str]] = (),
) -> tuple[list[Example], list[Example]]:
    """`linked` holds pairs of threads that must land on the same side."""
    position = {thread: thread_position(thread) for thread in {e.thread for e in examples}}
    # Each thread's group, named by its first member; most threads are
    # linked to none and are a group of their own.
    linked_group = _groups(position, linked)
    roots = set(position).difference(linked_group).union(linked_group.values())
    held_roots = {r for r in roots if position[r] < validation_share}
    if validation_share > 0 and not held_roots and len(roots) > 1:
        # A small dataset can miss the share by chance; one group is still
        # better than no validation at all: the one nearest the cut.
        held_roots = {min(roots, key=_order(position))}
    if roots and len(held_roots) == len(roots):
        # Training needs something too: keep the group furthest from the cut.
        held_roots.discard(max(held_roots, key=_order(position)))
    held = {t for t in position if linked_group.get(t, t) in held_roots}
    train = [e for e in examples if e.thread not in held]
    validation = [e for e in examples if e.thread in held]
    return train, validation


def _groups(position: Mapping[str, float], linked: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The group of each linked thread, named by its member first in
    (position, address) order."""
    parent: dict[str, str] = {}

    def root(thread: str) -> str:
        while (up := parent.get(thread, thread)) != thread:
            parent[thread] = parent.get(up, up)
            thread = up
        return thread

    first = _order(position)
    for a, b in linked:
        if a not in position or b not in position:
            continue
        ra, rb = root(a), root(b)
        if ra != rb:
            low, high = sorted((ra, rb), key=first)
            parent[high] = low
    members = set(parent).union(parent.values())
    return {thread: root(thread) for thread in members}


def _order(position: Mapping[str, float]) -> Callable[[str], tuple[float, str]]:
    # Ties (equal hashes) broken by address, so every run picks the same thread.
    return lambda thread: (position[thread], thread)
