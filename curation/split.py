"""The train/validation split: by thread, by hash, so it is the same on every run.

Replies in one thread share their context, so a thread goes wholly to one side;
otherwise validation would grade the model on text it trained on. A thread's
side depends only on its address, so it stays put as the dataset grows.
"""

import hashlib
from collections.abc import Sequence

from curation.examples import Example


def thread_position(thread: str) -> float:
    """Where a thread falls in [0, 1); threads below the share go to validation."""
    digest = hashlib.sha256(thread.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_by_thread(
    examples: Sequence[Example], validation_share: float
) -> tuple[list[Example], list[Example]]:
    position = {thread: thread_position(thread) for thread in {e.thread for e in examples}}
    threads = sorted(position, key=position.__getitem__)
    held = {t for t in threads if position[t] < validation_share}
    if validation_share > 0 and not held and len(threads) > 1:
        # A small dataset can miss the share by chance; one thread is still
        # better than no validation at all.
        held = {threads[0]}
    if threads and len(held) == len(threads):
        # Training needs something too: keep the thread furthest from the cut.
        held.discard(threads[-1])
    train = [e for e in examples if e.thread not in held]
    validation = [e for e in examples if e.thread in held]
    return train, validation
