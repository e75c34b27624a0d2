"""Pausing Python's cycle collector while curation builds millions of small objects."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Curation's objects (replies, examples, strings, tuples) hold no cycles,
    so the cycle collector frees nothing, yet it would walk every live object
    again and again as allocations pile up: a third of curation's time on a
    large export. Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
