"""Keeping Python's cycle collector off the acyclic objects a dataset build or an import
makes by the million."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """A build (and an export's import) makes only acyclic data (replies,
    votes, examples, strings, tuples, parsed JSON), so the cycle collector
    frees nothing in it, yet with every few thousand objects made it walks
    the young ones, and every time the live ones grow by a quarter it walks
    them all: at 100,000 replies that was half of the read, a third of the
    whole build and a fifth of an import (bench/read_replies.py,
    bench/curate.py, bench/import_export.py). Reference counting still frees everything as usual.

    On the way out, everything made meanwhile is moved to the oldest
    generation, where only the occasional full collection looks at it: left
    young, the first allocation after re-enabling would walk all of it at
    once to find nothing. Pauses nest, objects someone froze stay frozen,
    and a collector someone else turned off stays off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # freeze() then unfreeze() moves every tracked object to the oldest
        # generation without visiting any.
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        else:
            # Someone froze objects on purpose (the dry run's fork server, so
            # its children share pages with it), and unfreezing would undo
            # that: what was made meanwhile joins them instead, where no
            # collection walks it. Left young, in a dry run the first passes
            # after curation walked all of it.
            gc.freeze()
        if was_enabled:
            gc.enable()
