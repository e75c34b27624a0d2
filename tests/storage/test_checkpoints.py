"""The bot checkpoints the write-ahead log on its own thread, never in a commit."""

import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from storage import Store


def wal_pages(db: Path) -> int:
    return (db.with_name(db.name + "-wal").stat().st_size) // 4096


def claim_many(store: Store, count: int, text: str = "x" * 2000) -> None:
    for i in range(count):
        store.claim_message(
            "C1", f"{1000 + i}.000100", worker="w", text=text, expires_after=timedelta(1)
        )


def test_commits_no_longer_checkpoint_once_the_thread_does(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    store = Store(db)
    checkpoints = store.start_background_checkpoints(every=3600)  # never on its own here
    assert checkpoints is not None
    try:
        # Over SQLite's 1,000-page threshold: a commit would have checkpointed
        # (and restarted the log) long before this.
        claim_many(store, 2500)
        assert wal_pages(db) > 1000
        conn = sqlite3.connect(db)
        in_log, copied = checkpoints.checkpoint(conn)
        conn.close()
        assert in_log > 1000 and copied == in_log
    finally:
        checkpoints.stop()
        store.close()


def test_the_thread_copies_the_log_back_while_writes_go_on(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    store = Store(db)
    checkpoints = store.start_background_checkpoints(every=0.05)
    assert checkpoints is not None
    try:
        claim_many(store, 300, text="x" * 8000)
        deadline = time.monotonic() + 10
        # Everything written reaches the database file itself, not only the log.
        while db.stat().st_size < 300 * 8000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert db.stat().st_size >= 300 * 8000
        assert store.claim("C1", "1299.000100") is not None
    finally:
        checkpoints.stop()
        store.close()


def test_an_in_memory_database_has_no_log_to_checkpoint() -> None:
    assert Store(":memory:").start_background_checkpoints() is None
