"""The bot, the CLI and the trainer share one database file without losing writes."""

import sqlite3
import threading
import time
from collections.abc import Callable
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


def test_reads_of_deployments_runs_and_provenance_never_wait_for_another_threads_write(
    tmp_path: Path,
) -> None:
    # The bot claims each message before its ack; a status read (App Home,
    # the kept-since-last-run count over provenance) that took the write
    # connection's lock held those claims up for as long as it counted.
    store = Store(tmp_path / "shared.db")
    prompt = store.ensure_prompt("Be brief.", "voice_guide")
    store.deploy("gpt-4.1-mini", prompt.id, "config")
    reads: dict[str, Callable[[], object]] = {
        "live_deployment": store.live_deployment,
        "deployments": store.deployments,
        "rollback_target": store.rollback_target,
        "prompt": lambda: store.prompt(prompt.id),
        "newest_dataset": store.newest_dataset,
        "replies_beyond": lambda: store.replies_beyond("d1", None),
        "dataset_reply_keys": lambda: store.dataset_reply_keys("d1"),
        "ratings_since": lambda: store.ratings_since("2026-01-01"),
        "mean_prompt_tokens": lambda: store.mean_prompt_tokens(1),
        "provenance": lambda: store.provenance(1),
        "run_in_flight": store.run_in_flight,
        "runs": store.runs,
        "run": lambda: store.run(1),
        "run_events": lambda: store.run_events(1),
        "evaluations": lambda: store.evaluations(1),
        "imported_channels": store.imported_channels,
    }
    finished: list[str] = []

    def read_all() -> None:
        for name, read in reads.items():
            read()
            finished.append(name)

    with store.transaction():  # another thread's write, still going on
        reader = threading.Thread(target=read_all)
        reader.start()
        reader.join(5)
        assert finished == list(reads)
    store.close()
