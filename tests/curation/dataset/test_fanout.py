"""Screening in worker processes gives exactly what one process gives."""

import pickle
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from curation.dataset import fanout
from curation.dataset.chat_jsonl import dumps_chat_jsonl
from curation.dataset.examples import LabeledReply
from curation.dataset.fanout import chunk_ranges, screen_all
from curation.dataset.files import data_files
from curation.dataset.labels import LabelPolicy
from curation.dataset.minhash import band_keys, bands_for
from curation.dataset.pipeline import CurationConfig, curate
from curation.dataset.rules import CurationRules, PiiPattern, ToneRules
from curation.dataset.screening import ReplyScreen, ScreenedChunk
from storage.records import ChatTurn
from tests.curation.dataset.factories import SYSTEM, distinct, labeled

RULES = CurationRules(
    tone=ToneRules(banned_phrases=["great question"]),
    pii=[PiiPattern(name="order_number", pattern=r"\bFL-\d{6,}\b")],
)
CONFIG = CurationConfig(system_prompt=SYSTEM, base_model="gpt-4.1-mini-2025-04-14", rules=RULES)


def replies() -> list[LabeledReply]:
    """Every kind of outcome, with personal data of several kinds in a varying order."""
    found = []
    for i in range(60):
        pii = ["call (555) 123-4567", "order FL-1234567", "mail jo@fernleaf.example", ""][i % 4]
        found.append(
            labeled(
                f"{i}.1",
                text=f"{distinct(i % 45)} {pii}" if i % 9 else "Great question! Bring water.",
                up=(1, 0, 2, 1, 1, 0)[i % 6],
                down=(0, 0, 2, 1, 0, 1)[i % 6],
                corrections=(distinct(i + 100),) if i % 7 == 0 else (),
                thread_ts=f"{i % 6}.0",
                context=(ChatTurn("user", f"ask <@U0{i}> about it"),) if i % 3 == 0 else (),
            )
        )
    return found


def screen() -> ReplyScreen:
    return ReplyScreen(
        system_prompt=SYSTEM,
        base_model=CONFIG.base_model,
        token_limit=8192,
        rules=RULES,
        policy=LabelPolicy(),
    )


@pytest.fixture
def lone_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lets these tests fork even if an earlier test left a daemon thread behind."""
    monkeypatch.setattr(threading, "active_count", lambda: 1)


@pytest.mark.usefixtures("lone_thread")
@pytest.mark.parametrize("workers", [2, 3])
def test_workers_screen_like_one_process(workers: int) -> None:
    alone, forked = screen(), screen()
    done: list[int] = []
    one = merged(screen_all(replies(), alone, lambda n: None, parallel_from=10**9))
    many = merged(
        screen_all(replies(), forked, done.append, parallel_from=0, workers=workers, chunk=7)
    )
    assert many == one
    assert one.examples and one.losers and one.rejections
    assert list(forked.scrubber.counts.items()) == list(alone.scrubber.counts.items())
    assert len(alone.scrubber.counts) >= 3
    assert done == [stop for _, stop in chunk_ranges(60, 7, workers)]


def test_chunks_cover_every_reply_once_and_shrink_at_the_end() -> None:
    ranges = chunk_ranges(100_000, 4_000, 2)
    assert [start for start, _ in ranges] == [0] + [stop for _, stop in ranges[:-1]]
    assert ranges[-1][1] == 100_000
    sizes = [stop - start for start, stop in ranges]
    assert sizes[0] == 4_000 and min(sizes[:-1]) == 500
    assert sizes == sorted(sizes, reverse=True)


def merged(chunks: Iterable[ScreenedChunk]) -> ScreenedChunk:
    whole = ScreenedChunk()
    for chunk in chunks:
        whole.extend(chunk)
    return whole


def test_each_example_carries_its_band_keys_and_jsonl_line() -> None:
    chunk = screen().screen_many(replies())
    assert len(chunk.examples) >= 10
    keys = band_keys(chunk.dedup_texts, *bands_for(RULES.dedup.similarity))
    assert keys.dtype == np.uint64
    assert bytes(chunk.sketches) == keys.tobytes()
    assert b"".join(chunk.lines) == dumps_chat_jsonl(e.messages for e in chunk.examples)


@pytest.mark.usefixtures("lone_thread")
def test_curating_with_workers_writes_the_same_dataset() -> None:
    alone = curate(replies(), CONFIG)
    forked = curate(replies(), replace(CONFIG, parallel_from=0))
    assert forked.report() == alone.report()
    assert data_files(forked) == data_files(alone)
    assert forked.jsonl_lines
    # Lines made in screening are the lines written from the examples.
    assert data_files(replace(forked, jsonl_lines={})) == data_files(forked)


def test_progress_reports_every_stage_to_its_end() -> None:
    heard: list[tuple[str, int, int]] = []
    curate(replies(), CONFIG, lambda stage, done, total: heard.append((stage, done, total)))
    last = {stage: (done, total) for stage, done, total in heard}
    assert len(last) == 3
    assert heard[0][1:] == (0, 60)
    assert all(done == total for done, total in last.values())


def test_no_worker_is_forked_while_other_threads_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("forked from a threaded process")

    monkeypatch.setattr(fanout, "ProcessPoolExecutor", refuse)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        screened = merged(screen_all(replies(), screen(), lambda n: None, parallel_from=0))
    finally:
        stop.set()
        other.join()
    assert screened.labels.total() == 60


@pytest.mark.usefixtures("lone_thread")
def test_results_travel_through_a_spool_folder_that_is_gone_afterwards(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fanout, "_SHARED_MEMORY", tmp_path)
    read: list[object] = []
    received = fanout._received

    def receive(sent: str) -> object:
        read.append(sent)
        return received(sent)

    monkeypatch.setattr(fanout, "_received", receive)
    one = merged(screen_all(replies(), screen(), lambda n: None, parallel_from=10**9))
    many = merged(screen_all(replies(), screen(), lambda n: None, parallel_from=0, chunk=7))
    assert many == one
    assert read and all(isinstance(sent, str) for sent in read)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("lone_thread")
@pytest.mark.parametrize(
    ("module", "name"),
    [
        (pickle, "dump"),  # a spool file cannot be written: a full /dev/shm
        (tempfile, "TemporaryDirectory"),  # no spool folder: a read-only temp folder
    ],
)
def test_results_come_through_the_pipe_when_the_spool_fails(
    monkeypatch: pytest.MonkeyPatch, module: object, name: str
) -> None:
    def failing(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    # Forked workers inherit the patch.
    monkeypatch.setattr(module, name, failing)
    read: list[object] = []
    received = fanout._received

    def receive(sent: object) -> object:
        read.append(sent)
        return received(sent)  # type: ignore[arg-type]

    monkeypatch.setattr(fanout, "_received", receive)
    one = merged(screen_all(replies(), screen(), lambda n: None, parallel_from=10**9))
    many = merged(screen_all(replies(), screen(), lambda n: None, parallel_from=0, chunk=7))
    assert many == one
    assert read and not any(isinstance(sent, str) for sent in read)
