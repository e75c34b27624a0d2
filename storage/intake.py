"""Messages Slack was told we have, kept in an append-only file until their claims are stored.

A message must be durable before its delivery is acknowledged: a crash after
the ack must not lose it, since Slack will not send it again. Appending one
line to a file makes it as durable as a commit in WAL mode with
`synchronous = NORMAL` (both survive the process, not the machine), for a
fraction of the cost on a cold CPU (32-44 µs against about 280 µs for the
claim's `INSERT … RETURNING` between spaced-out acks), and every ack of a
message waits for it. The claim itself is written just after the ack; a crash in
between leaves the line here, and the next maintenance pass turns it into a
released claim, which is then answered like any failed work.

The bot is the only writer. `taken()` moves the file aside under the append
lock and deletes it only once its lines are stored, so a crash at any point
replays lines (their claims ignore repeats) rather than losing them.
"""

import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import orjson

from storage.records import Arrival
from storage.store import StorageError

log = logging.getLogger(__name__)

TAKEN = ".taken"  # the suffix of files moved aside, until their lines are stored


class Intake:
    """The file beside a database (`<db>-intake`), or a list for an in-memory one."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._memory: list[Arrival] = []

    @classmethod
    def beside(cls, db: str | Path) -> "Intake":
        return cls(None if str(db) == ":memory:" else Path(f"{db}-intake"))

    def append(self, arrival: Arrival) -> None:
        """Keeps `arrival` (one write; raises StorageError when the disk refuses it)."""
        if self.path is None:
            with self._lock:
                self._memory.append(arrival)
            return
        line = orjson.dumps(asdict(arrival), option=orjson.OPT_APPEND_NEWLINE)
        with self._lock:
            try:
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                written = os.write(self._fd, line)
            except OSError as e:
                raise StorageError(f"cannot keep an incoming message in {self.path}: {e}") from e
            if written != len(line):
                # A short write (a full disk) leaves a torn line, and the next
                # line would be appended to it and read as one bad line: cut
                # it off. The message is refused, so Slack delivers it again.
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, os.fstat(self._fd).st_size - written)
                raise StorageError(f"cannot keep an incoming message in {self.path}: disk full?")

    @contextmanager
    def taken(self) -> Iterator[list[Arrival]]:
        """The arrivals kept so far; they are forgotten when the block ends without an error."""
        if self.path is None:
            with self._lock:
                arrivals, self._memory = self._memory, []
            try:
                yield arrivals
            except BaseException:
                with self._lock:
                    self._memory[:0] = arrivals
                raise
            return
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self.path.exists():
                # A name of its own: files an earlier pass or a crash left stay as they are.
                self.path.rename(self.path.with_name(f"{self.path.name}.{uuid.uuid4().hex}{TAKEN}"))
        prefix = f"{self.path.name}."
        files = sorted(
            file
            for file in self.path.parent.iterdir()
            if file.name.startswith(prefix) and file.name.endswith(TAKEN)
        )
        arrivals = [arrival for file in files for arrival in _read(file)]
        yield arrivals
        for file in files:
            file.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _read(file: Path) -> Iterator[Arrival]:
    for number, line in enumerate(file.read_bytes().splitlines(), start=1):
        try:
            yield Arrival(**orjson.loads(line))
        except (orjson.JSONDecodeError, TypeError) as e:
            # Only a crash mid-write makes one (the last line); the delivery it
            # held was never acknowledged, so Slack sends it again.
            log.warning("skipped line %d of %s: not a kept message (%s)", number, file.name, e)
