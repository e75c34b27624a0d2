"""Copies the write-ahead log back into the database file off the bot's write path.

SQLite checkpoints a WAL database from whichever connection's commit takes the
log past 1,000 pages. In the bot that commit is usually a claim written
before Slack's delivery is acknowledged, so every few thousand writes one ack
paid for copying 4 MB and syncing the file (5–90 ms here). The bot turns that
off on its write connection and checkpoints on this thread instead, on a
connection of its own: a passive checkpoint takes no lock that writers wait
for, and sqlite3 releases the GIL while it copies.
"""

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)


class WalCheckpointer:
    """Every `every` seconds, a passive checkpoint of the database at `path`."""

    def __init__(self, path: str, every: float = 1.0) -> None:
        self.path = path
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="voiceloop-checkpoint", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def checkpoint(self, conn: sqlite3.Connection) -> tuple[int, int]:
        """One passive checkpoint: (pages in the log, pages copied back)."""
        _busy, in_log, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(in_log), int(copied)

    def _loop(self) -> None:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            while not self._stop.wait(self.every):
                try:
                    self.checkpoint(conn)
                except sqlite3.Error as e:
                    # The next pass tries again; until then the log only grows.
                    log.warning("checkpoint of %s failed (%s); trying again", self.path, e)
        finally:
            conn.close()
