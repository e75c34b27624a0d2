"""Pausing Python's cycle collector while curation builds millions of small objects."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Curation's objects (replies, examples, strings, tuples) hold no cycles,
    so the cycle collector frees nothing, yet it would walk every live object
    again and again as allocations pile up: a third of curation's time on a
    large export. Reference counting still frees everything as usual.

    On the way out, everything made meanwhile is moved to the oldest
    generation, where the occasional full collection looks at it: left young,
    the first allocation after re-enabling would walk all of it at once (a
    tenth of a second for 100,000 replies) to find nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # freeze() then unfreeze() moves every tracked object to the oldest
        # generation without visiting any. Skipped if someone froze objects
        # on purpose (before forking workers, say): unfreezing would undo that.
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()
