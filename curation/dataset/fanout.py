"""Screening replies in worker processes, when there are enough of them to pay for it.

Each reply is screened on its own (curation.dataset.screening), so chunks of replies can
go to other cores; what needs every reply (repeats, the split, pairs) stays in
the calling process. Workers are forked: they inherit the replies and the set-up
screen instead of receiving them pickled, and only results travel back. The
calling process screens chunks too while the workers run, so `workers` counts
it: its own chunks cost nothing to ship. Results come back in reply order, so a
run gives exactly what one process would.

A worker writes each chunk's results to a file in a spool folder (in memory,
under /dev/shm, where there is one) and sends back only its name. Through the
pool's pipe, a worker would wait, result half sent, until the calling process
stopped screening long enough to read it, and that process would unpickle it
on a second thread, competing with its own screening; read from a file, it is
unpickled when its turn comes, and the worker goes straight on.
"""

import multiprocessing
import os
import pickle
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any, Literal, cast

from curation.dataset.examples import (
    ChatMessage,
    Example,
    ExampleSource,
    LabeledReply,
    Rejection,
    Role,
)
from curation.dataset.screening import ReplyScreen, ScreenedChunk

# Below this many replies, starting workers and shipping results back costs
# more than it saves.
PARALLEL_FROM = 8_000
# Processes that screen, this one included: one per core.
WORKERS = 2
# Small enough for a progress bar to move, large enough that each task's
# overhead is noise. Chunks shrink towards the end (to an eighth of this), so
# no process waits long for another's last chunk.
CHUNK = 4_000
# Chunks handed to each worker before it asks: one running, one waiting.
_AHEAD = 2

# Told the number of replies screened so far.
Done = Callable[[int], None]

# What each forked worker inherited: the replies, the screen and the spool
# folder (None: there is none, and results go through the pipe).
_inherited: tuple[Sequence[LabeledReply], ReplyScreen, str | None] | None = None
# Where spool folders go: memory, not disk, where the system has it.
# A folder made by tempfile inside it is private to this user (mode 0700).
_SHARED_MEMORY = Path("/dev/shm")  # noqa: S108

# An example as plain tuples, its messages too: pickle writes and reads a plain
# tuple in C, while a named tuple costs a Python call each way.
_Message = tuple[Role, str, Literal[0, 1] | None]
_Example = tuple[str, str, ExampleSource, tuple[_Message, ...], int, str, str | None, int]
_Rejection = tuple[str, str, str]
# A ScreenedChunk's fields by name, those holding named tuples made plain.
_Packed = dict[str, Any]

_Results = tuple[_Packed, Counter[str]]
# What a worker sends back: the path of a spool file holding the results, or them.
_Sent = str | _Results


def screen_all(
    replies: Sequence[LabeledReply],
    screen: ReplyScreen,
    done: Done,
    *,
    parallel_from: int = PARALLEL_FROM,
    workers: int = WORKERS,
    chunk: int = CHUNK,
) -> Iterator[ScreenedChunk]:
    """Every reply screened, a chunk at a time and in order; scrub counts end
    up in `screen.scrubber`."""
    if len(replies) < parallel_from or workers < 2 or not _can_fork():
        for start in range(0, len(replies), chunk):
            stop = min(start + chunk, len(replies))
            yield screen.screen_many(replies[start:stop])
            done(stop)
        return
    ranges = chunk_ranges(len(replies), chunk, workers)
    screen.load_models()
    children = workers - 1
    context = multiprocessing.get_context("fork")
    with (
        _spool_folder() as spool,
        ProcessPoolExecutor(
            max_workers=children,
            mp_context=context,
            initializer=_inherit,
            initargs=(replies, screen, spool),
        ) as pool,
    ):
        sent: dict[int, Future[_Sent]] = {}
        mine: dict[int, tuple[ScreenedChunk, Counter[str]]] = {}
        claimed = 0
        for index, (_, stop) in enumerate(ranges):
            while index not in mine and not (index in sent and sent[index].done()):
                running = sum(not f.done() for f in sent.values())
                while claimed < len(ranges) and running < _AHEAD * children:
                    sent[claimed] = pool.submit(_screen_range, *ranges[claimed])
                    claimed, running = claimed + 1, running + 1
                if claimed == len(ranges):
                    break  # nothing left to take: wait for the worker's chunk
                start, end = ranges[claimed]
                mine[claimed] = _screened_apart(screen, replies[start:end])
                claimed += 1
            if index in mine:
                screened, scrubbed = mine.pop(index)
            else:
                packed, scrubbed = _received(sent.pop(index).result())
                screened = _unpacked(packed)
            # Counters merged in reply order keep the kinds in the order a
            # single process would first have met them.
            screen.scrubber.counts.update(scrubbed)
            yield screened
            done(stop)


def chunk_ranges(total: int, chunk: int, workers: int) -> list[tuple[int, int]]:
    """(start, stop) of each chunk: `chunk` replies, fewer as the end nears."""
    ranges = []
    start = 0
    while start < total:
        size = max(chunk // 8, min(chunk, (total - start) // (2 * workers)), 1)
        ranges.append((start, min(start + size, total)))
        start += size
    return ranges


def _can_fork() -> bool:
    # Forking is what makes this cheap, and it is only safe on Linux (macOS
    # system libraries may crash in a forked child) and from a process with
    # one thread: a lock another thread holds at fork time (the running bot's
    # tokenizer, a socket) stays held in the child forever.
    return (
        sys.platform.startswith("linux")
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
    )


def _inherit(replies: Sequence[LabeledReply], screen: ReplyScreen, spool: str | None) -> None:
    global _inherited
    _inherited = (replies, screen, spool)


def _screened_apart(
    screen: ReplyScreen, replies: Sequence[LabeledReply]
) -> tuple[ScreenedChunk, Counter[str]]:
    """Replies screened with their scrub counts kept apart, for merging in order."""
    counts = screen.scrubber.counts
    screen.scrubber.counts = Counter()
    try:
        return screen.screen_many(replies), screen.scrubber.counts
    finally:
        screen.scrubber.counts = counts


def _screen_range(start: int, stop: int) -> _Sent:
    """A chunk's results, in a spool file (its path is returned) or, where
    the file cannot be written (a full /dev/shm), themselves."""
    assert _inherited is not None, "a worker starts with _inherit"
    replies, screen, spool = _inherited
    screened, counts = _screened_apart(screen, replies[start:stop])
    results = (_packed(screened), counts)
    if spool is None:
        return results
    path = Path(spool, f"{start}.pickle")
    try:
        with path.open("wb") as file:
            pickle.dump(results, file, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:
        path.unlink(missing_ok=True)
        return results
    return str(path)


@contextmanager
def _spool_folder() -> Iterator[str | None]:
    """A private folder for workers' results, removed afterwards; None when
    none can be made (a read-only temp folder), and the pipe carries them."""
    root = _SHARED_MEMORY if _SHARED_MEMORY.is_dir() else None
    try:
        folder = tempfile.TemporaryDirectory(prefix="voiceloop-curate-", dir=root)
    except OSError:
        yield None
        return
    with folder as path:
        yield path


def _received(sent: _Sent) -> _Results:
    if not isinstance(sent, str):
        return sent
    path = Path(sent)
    with path.open("rb") as file:
        # Written a moment ago by this run's own worker, in a folder only
        # this user can read.
        results: _Results = pickle.load(file)  # noqa: S301
    path.unlink()
    return results


def _packed(chunk: ScreenedChunk) -> _Packed:
    packed = {field.name: getattr(chunk, field.name) for field in fields(chunk)}
    return packed | {name: plain(packed[name]) for name, (plain, _) in _PLAIN.items()}


def _unpacked(packed: _Packed) -> ScreenedChunk:
    named = {name: back(packed[name]) for name, (_, back) in _PLAIN.items()}
    return ScreenedChunk(**(packed | named))


def _rejection_values(rejections: list[Rejection]) -> list[_Rejection]:
    return cast(list[_Rejection], list(map(tuple, rejections)))


def _rejections_from(values: list[_Rejection]) -> list[Rejection]:
    return list(map(Rejection._make, values))


def _examples_values(examples: list[Example]) -> list[_Example]:
    return list(map(_example_values, examples))


def _examples_from(values: list[_Example]) -> list[Example]:
    return list(map(_example_from, values))


def _example_values(example: Example) -> _Example:
    key, thread, source, messages, net_votes, created_at, rejected, tokens = example
    plain = cast(tuple[_Message, ...], tuple(map(tuple, messages)))
    return key, thread, source, plain, net_votes, created_at, rejected, tokens


def _example_from(values: _Example) -> Example:
    key, thread, source, plain, net_votes, created_at, rejected, tokens = values
    messages = tuple(map(ChatMessage._make, plain))
    return Example(key, thread, source, messages, net_votes, created_at, rejected, tokens)


# The chunk fields that hold named tuples: how each is made plain, and back.
_PLAIN: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "rejections": (_rejection_values, _rejections_from),
    "too_long": (_rejection_values, _rejections_from),
    "examples": (_examples_values, _examples_from),
    "losers": (_examples_values, _examples_from),
}
