"""The bot, the CLI and the trainer share one database file without losing writes."""

import sqlite3
import threading
import time
from pathlib import Path

from storage import Reply, Store


def test_a_transaction_holds_the_write_lock_from_its_first_read(tmp_path: Path) -> None:
    # With a deferred BEGIN, another process committing between this
    # transaction's read and its write makes the write fail at once with
    # "database is locked", whatever the busy timeout.
    path = tmp_path / "shared.db"
    bot, cli = Store(path), Store(path)
    cli_wrote = threading.Event()

    def cli_writes() -> None:
        cli.save_reply(Reply(channel="C1", ts="2.000001", text="from the CLI"))
        cli_wrote.set()

    with bot.transaction() as db:
        db.execute("SELECT count(*) FROM replies").fetchone()
        writer = threading.Thread(target=cli_writes)
        writer.start()
        time.sleep(0.2)  # the other writer waits for this transaction
        assert not cli_wrote.is_set()
        bot.save_reply(Reply(channel="C1", ts="1.000001", text="from the bot"))
    writer.join(10)
    assert cli_wrote.is_set()
    assert {r.ts for r in Store(path).replies()} == {"1.000001", "2.000001"}


def test_a_write_waits_out_a_lock_held_longer_than_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    store = Store(path, busy_timeout=0.1)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.4, lambda: other.execute("COMMIT")).start()
    store.save_reply(Reply(channel="C1", ts="1.000001", text="kept"))
    assert store.reply("C1", "1.000001") is not None
    other.close()


def test_a_long_read_elsewhere_never_blocks_a_write(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    store = Store(path, busy_timeout=0.1)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM replies").fetchone()
    store.save_reply(Reply(channel="C1", ts="1.000001", text="kept"))
    reader.execute("COMMIT")
    reader.close()
    assert store.reply("C1", "1.000001") is not None
