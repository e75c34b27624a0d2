"""Kept messages: appended before the ack, turned into released claims, never lost on the way."""

import os
from datetime import timedelta
from pathlib import Path

import pytest

from storage import Arrival, Intake, StorageError, Store


def arrival(n: int, text: str = "hi") -> Arrival:
    return Arrival("C1", f"100.{n:06d}", "U1", text)


def test_kept_messages_are_taken_once_and_the_file_is_gone_after(tmp_path: Path) -> None:
    intake = Intake.beside(tmp_path / "bot.db")
    intake.append(arrival(1))
    intake.append(Arrival("C1", "100.000002", "U2", "a thread reply", thread_ts="100.000001"))
    with intake.taken() as arrivals:
        assert arrivals == [
            arrival(1),
            Arrival("C1", "100.000002", "U2", "a thread reply", "100.000001"),
        ]
    assert list(tmp_path.iterdir()) == []
    with intake.taken() as arrivals:
        assert arrivals == []


def test_what_arrives_while_kept_messages_are_taken_waits_for_the_next_take(
    tmp_path: Path,
) -> None:
    intake = Intake.beside(tmp_path / "bot.db")
    intake.append(arrival(1))
    with intake.taken() as arrivals:
        intake.append(arrival(2))
        assert arrivals == [arrival(1)]
    with intake.taken() as arrivals:
        assert arrivals == [arrival(2)]


def test_a_take_that_fails_is_taken_again(tmp_path: Path) -> None:
    intake = Intake.beside(tmp_path / "bot.db")
    intake.append(arrival(1))
    with pytest.raises(RuntimeError), intake.taken():
        raise RuntimeError("database locked")
    intake.append(arrival(2))
    with intake.taken() as arrivals:
        assert sorted(arrivals, key=lambda a: a.ts) == [arrival(1), arrival(2)]


def test_another_process_after_a_crash_reads_what_this_one_kept(tmp_path: Path) -> None:
    Intake.beside(tmp_path / "bot.db").append(arrival(1, text='ünïcode 🎉 and "quotes"\n'))
    # No close: a killed process closes nothing.
    with Intake.beside(tmp_path / "bot.db").taken() as arrivals:
        assert arrivals == [arrival(1, text='ünïcode 🎉 and "quotes"\n')]


def test_a_torn_or_foreign_line_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    intake = Intake.beside(tmp_path / "bot.db")
    intake.append(arrival(1))
    with (tmp_path / "bot.db-intake").open("ab") as f:
        f.write(b'42\n{"channel": "C1", "ts": "1"}\n{"channel": "C1", "ts": "100.0000')
    with intake.taken() as arrivals:
        assert arrivals == [arrival(1)]
    skipped = [r.getMessage() for r in caplog.records if "skipped line" in r.getMessage()]
    assert [line.split(" of ")[0] for line in skipped] == [
        "skipped line 2",
        "skipped line 3",
        "skipped line 4",
    ]


def test_a_message_that_cannot_be_kept_is_a_storage_error(tmp_path: Path) -> None:
    intake = Intake(tmp_path / "missing folder" / "bot.db-intake")
    with pytest.raises(StorageError, match="cannot keep an incoming message"):
        intake.append(arrival(1))


def test_an_in_memory_database_keeps_messages_in_memory() -> None:
    intake = Intake.beside(":memory:")
    intake.append(arrival(1))
    with pytest.raises(RuntimeError), intake.taken():
        raise RuntimeError("failed")
    with intake.taken() as arrivals:
        assert arrivals == [arrival(1)]
    with intake.taken() as arrivals:
        assert arrivals == []


def test_kept_messages_become_released_claims_unless_already_claimed() -> None:
    store = Store(":memory:")
    store.claim_message("C1", "100.000001", worker="bot:1", expires_after=timedelta(minutes=2))
    added = store.add_released_claims(
        [
            Arrival("C1", "100.000001", "U1", "claimed already"),
            Arrival("C1", "100.000002", "U2", "not yet", thread_ts="100.000001"),
            # Slack's retry, kept twice.
            Arrival("C1", "100.000002", "U2", "not yet", thread_ts="100.000001"),
        ]
    )
    assert added == 1
    first, second = store.claim("C1", "100.000001"), store.claim("C1", "100.000002")
    assert first is not None and first.state == "claimed" and first.claimed_by == "bot:1"
    assert second is not None
    assert (second.state, second.attempts, second.user, second.text, second.thread_ts) == (
        "released",
        0,
        "U2",
        "not yet",
        "100.000001",
    )
    # Released: the next claim (Slack's retry, or recovery) takes it as its first attempt.
    taken = store.claim_message("C1", "100.000002", worker="bot:1", expires_after=timedelta(0))
    assert taken is not None and taken.attempts == 1


def test_a_short_write_leaves_no_torn_line_for_the_next_message_to_join(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = Intake.beside(tmp_path / "bot.db")
    intake.append(arrival(1))
    real_write = os.write

    def disk_full(fd: int, data: bytes) -> int:
        return real_write(fd, data[:10])  # the disk took only part of the line

    with monkeypatch.context() as patched:
        patched.setattr(os, "write", disk_full)
        with pytest.raises(StorageError, match="disk full"):
            intake.append(arrival(2))
    intake.append(arrival(3))
    with intake.taken() as arrivals:
        assert arrivals == [arrival(1), arrival(3)]
