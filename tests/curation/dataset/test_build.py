"""From the store to a dataset folder and a datasets row, and back."""

import hashlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TypeVar

import pytest
from sqlite_utils import Database

from curation.dataset.build import build_dataset, recorded_report
from curation.dataset.files import (
    DPO_TRAIN,
    DPO_VALIDATION,
    REPORT,
    TRAIN,
    VALIDATION,
)
from curation.dataset.jsonl import check_training_file
from curation.dataset.pipeline import CurationConfig
from curation.errors import CurationError
from storage import Reply, Store
from tests.curation.dataset.factories import SYSTEM, distinct
from tests.storage.rows import ids

T = TypeVar("T")


def checked_lines(path: Path, kind: str) -> list[object]:
    """The file's lines, after `voiceloop validate`'s check finds nothing wrong."""
    check = check_training_file(path)
    assert (check.problems, check.kind) == ([], kind)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


CONFIG = CurationConfig(
    system_prompt=SYSTEM, base_model="gpt-4.1-mini-2025-04-14", validation_share=0.2
)


def rated_store(replies: int = 30) -> Store:
    store = Store(":memory:")
    for i in range(replies):
        ts = f"{1000 + i}.1"
        store.save_reply(Reply("C1", ts, distinct(i), question=f"What should I pack for trip {i}?"))
        store.record_vote("C1", ts, "U1", 1, "reaction:+1")
    store.save_correction("C1", "1000.1", "U2", "Pack layers, water, and a headlamp. 🥾")
    return store


def test_build_writes_valid_files_and_records_them(tmp_path: Path) -> None:
    store = rated_store()
    result = build_dataset(store, CONFIG, tmp_path)
    version = result.version
    assert version is not None
    folder = Path(version.path)
    assert folder == tmp_path / version.id
    names = {p.name for p in folder.iterdir()}
    assert names == {*version.files, REPORT}
    # One correction, one preference pair, on whichever side its thread fell.
    assert {TRAIN, VALIDATION} < names
    assert len(names & {DPO_TRAIN, DPO_VALIDATION}) == 1
    assert version.preference_pairs == 1
    train = checked_lines(folder / TRAIN, "chat")
    validation = checked_lines(folder / VALIDATION, "chat")
    assert len(train) + len(validation) == 30
    assert (version.train_examples, version.validation_examples) == (len(train), len(validation))
    for name, sha in version.files.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha
        if name.startswith("dpo_"):
            assert checked_lines(folder / name, "dpo")
    report = json.loads((folder / REPORT).read_text(encoding="utf-8"))
    assert report["examples"] == {"train": len(train), "validation": len(validation)}
    # The database keeps the report without the rejected replies; the file has them.
    assert version.report == {**report, "rejections": {"counts": report["rejections"]["counts"]}}
    assert store.prompt(version.prompt_id).content == SYSTEM
    assert store.prompt(version.prompt_id).kind == "post_training"
    assert version.estimated_cost_usd is not None and version.estimated_cost_usd > 0


def test_rebuilding_unchanged_ratings_is_a_no_op(tmp_path: Path) -> None:
    store = rated_store()
    first = build_dataset(store, CONFIG, tmp_path).version
    second = build_dataset(store, CONFIG, tmp_path).version
    assert first is not None and second == first
    assert ids(store, "datasets") == [first.id]
    assert [p.name for p in tmp_path.iterdir()] == [first.id]
    store.record_vote("C1", "1005.1", "U9", -1, "reaction:x")  # now contested
    third = build_dataset(store, CONFIG, tmp_path).version
    assert third is not None and third.id != first.id
    assert third.train_examples + third.validation_examples == 29


def test_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    store = rated_store()
    result = build_dataset(store, CONFIG, tmp_path / "out", dry_run=True)
    assert result.version is None
    assert len(result.curated.train) + len(result.curated.validation) == 30
    assert not (tmp_path / "out").exists()
    assert ids(store, "datasets") == []


def test_nothing_kept_means_nothing_written(tmp_path: Path) -> None:
    store = Store(":memory:")
    store.save_reply(Reply("C1", "1.1", "Hi there.", question="Hello?"))
    result = build_dataset(store, CONFIG, tmp_path)
    assert result.version is None
    assert result.curated.rejection_counts == {"unrated": 1}
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_folder_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(CurationError, match=r"cannot write the dataset .*--out"):
        build_dataset(rated_store(), CONFIG, blocker)


def test_the_database_keeps_the_report_without_the_rejected_replies() -> None:
    report: dict[str, object] = {
        "examples": {"train": 1, "validation": 0},
        "rejections": {"counts": {"style:max_exclamations": 1}, "replies": [{"ts": "1.0"}]},
    }
    assert recorded_report(report) == {
        "examples": {"train": 1, "validation": 0},
        "rejections": {"counts": {"style:max_exclamations": 1}},
    }
    assert report["rejections"] == {  # the file's copy is left whole
        "counts": {"style:max_exclamations": 1},
        "replies": [{"ts": "1.0"}],
    }


def test_the_database_is_written_by_the_writes_runner_and_nothing_else(tmp_path: Path) -> None:
    # The bot's dry run curates on a low-priority thread but must write from
    # another: a write lock held by a thread waiting for a core stalls acks.
    store = Store(tmp_path / "shared.db")
    for i in range(30):
        ts = f"{1000 + i}.1"
        store.save_reply(Reply("C1", ts, distinct(i), question=f"What should I pack for trip {i}?"))
        store.record_vote("C1", ts, "U1", 1, "reaction:+1")
    writer_threads: list[int] = []
    writers: list[int] = []
    write = store.transaction

    def noted_transaction() -> AbstractContextManager[Database]:
        writers.append(threading.get_ident())
        return write()

    def on_writer(work: Callable[[], T]) -> T:
        writer_threads.append(threading.get_ident())
        return work()

    def elsewhere(work: Callable[[], T], /) -> T:
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(on_writer, work).result()

    store.transaction = noted_transaction  # type: ignore[method-assign,assignment]
    result = build_dataset(store, CONFIG, tmp_path / "datasets", writes=elsewhere)
    assert result.version is not None and len(writer_threads) == 1
    assert writers and set(writers) == set(writer_threads)
    assert store.dataset_reply_keys(result.version.id) == {f"C1/{1000 + i}.1" for i in range(30)}
    assert Path(result.version.path).is_dir()
