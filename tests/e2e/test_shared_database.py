"""`voiceloop curate` beside a bot that keeps writing: neither fails nor loses a write."""

import subprocess
import threading
from pathlib import Path

from storage import Reply, Store
from tests.curation.dataset.factories import distinct
from tests.e2e.test_serve_command import VOICELOOP, clean_env


def test_curate_twice_while_the_bot_writes(tmp_path: Path) -> None:
    db = tmp_path / "voiceloop.db"
    bot = Store(db)
    with bot.transaction():
        for i in range(400):
            bot.save_reply(Reply("C1", f"{i}.000001", distinct(i), question=f"Trip {i}?"))
            bot.record_vote("C1", f"{i}.000001", "U1", 1, "reaction:+1")
    stop = threading.Event()
    written: list[str] = []
    errors: list[BaseException] = []

    def bot_writes() -> None:
        # Replies and votes as the bot stores them, one short transaction each.
        i = 1000
        while not stop.is_set():
            ts = f"{i}.000001"
            try:
                bot.save_reply(Reply("C1", ts, distinct(i), question=f"Trip {i}?"))
                bot.record_vote("C1", ts, f"U{i % 7}", 1, "reaction:+1")
                bot.record_vote("C1", ts, f"U{i % 7}", -1, "reaction:-1")
            except BaseException as e:  # any failure is the finding
                errors.append(e)
                return
            written.append(ts)
            i += 1

    writer = threading.Thread(target=bot_writes)
    writer.start()
    env = clean_env(
        tmp_path,
        VOICELOOP_DATASET_DIR=str(tmp_path / "datasets"),
        VOICELOOP_SHORT_PROMPT="You are Pim, the assistant for Acme Kites.",
    )
    try:
        runs = [
            subprocess.run(
                [*VOICELOOP, "curate"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
            for _ in range(2)
        ]
    finally:
        stop.set()
        writer.join(30)
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
        assert "locked" not in run.stdout + run.stderr
    assert errors == []
    assert len(written) > 50  # the bot really wrote throughout
    stored = {r.ts for r in bot.replies("CAST(ts AS REAL) >= 1000")}
    assert stored == set(written)
    votes = {v.ts: v.value for v in bot.votes() if v.ts in stored}
    assert set(votes.values()) == {-1} and len(votes) == len(written)
    bot.close()
