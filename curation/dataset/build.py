"""Building a dataset version end to end: read the store, curate, write, record."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from curation.dataset.collector import cycle_collector_paused
from curation.dataset.files import data_files, dataset_id, file_hashes, write_version
from curation.dataset.pipeline import CuratedDataset, CurationConfig, Progress, curate
from curation.dataset.source import labeled_replies
from storage import DatasetReplies, DatasetVersion, Store, prompt_id_for, record_dataset

T = TypeVar("T")


class Runner(Protocol):
    """Runs a piece of work and returns what it returned: how a build's
    database writes are run. Everything else (read, curate, write the files)
    runs on the caller's thread."""

    def __call__(self, work: Callable[[], T], /) -> T: ...


def run_here(work: Callable[[], T], /) -> T:
    return work()


@dataclass(frozen=True)
class BuildResult:
    curated: CuratedDataset
    # None on a dry run, or when no reply made it into the training set.
    version: DatasetVersion | None


def build_dataset(
    store: Store,
    config: CurationConfig,
    out_root: Path,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    writes: Runner = run_here,
) -> BuildResult:
    """`progress` hears curation's (stage, done, total), as curate() tells it;
    `writes` runs the database writes (see Runner)."""
    # The read, curation and the files make millions of acyclic objects; the
    # collector would walk them again and again to free nothing.
    with cycle_collector_paused():
        curated, folder = _curate(store, config, out_root, dry_run, progress)
        if folder is None:
            return BuildResult(curated, None)
        return BuildResult(curated, _record(store, config, curated, folder, writes))


@dataclass(frozen=True)
class _Folder:
    """A version's folder, written to disk and not yet recorded."""

    id: str
    path: Path
    files: dict[str, bytes]
    report: dict[str, object]


def _curate(
    store: Store, config: CurationConfig, out_root: Path, dry_run: bool, progress: Progress | None
) -> tuple[CuratedDataset, _Folder | None]:
    """Everything but the database writes: read, curate, write the folder
    (none on a dry run, or when nothing made it into the training set)."""
    curated = curate(labeled_replies(store), config, progress)
    if dry_run or not curated.train:
        return curated, None
    files = data_files(curated)
    version_id = dataset_id(files, config.base_model, curated.estimate.epochs)
    report = curated.report()
    path = write_version(out_root, version_id, files, report)
    return curated, _Folder(version_id, path, files, report)


def _record(
    store: Store,
    config: CurationConfig,
    curated: CuratedDataset,
    folder: _Folder,
    writes: Runner,
) -> DatasetVersion:
    # Everything the writes need is worked out here, so that `writes` runs
    # the writes and little else: a dry run runs them at normal priority
    # beside the bot (bot/dry_run.py). With these rows and sums made inside
    # it, recording a version that was already recorded held a core for
    # 61 ms; without, 4 ms.
    version = DatasetVersion(
        id=folder.id,
        path=str(folder.path),
        base_model=config.base_model,
        prompt_id=prompt_id_for(config.system_prompt),
        train_examples=len(curated.train),
        validation_examples=len(curated.validation),
        preference_pairs=len(curated.train_pairs) + len(curated.validation_pairs),
        train_tokens=curated.train_tokens,
        validation_tokens=curated.validation_tokens,
        epochs=curated.estimate.epochs,
        estimated_cost_usd=curated.estimate.usd,
        files=file_hashes(folder.files),
        report=recorded_report(folder.report),
    )
    # Provenance: which replies this version holds (preference pairs come from
    # the same replies' corrections, so train and validation cover them).
    replies = DatasetReplies.of(
        folder.id,
        {
            "train": [e.key for e in curated.train],
            "validation": [e.key for e in curated.validation],
        },
    )

    def write() -> DatasetVersion:
        store.ensure_prompt(config.system_prompt, "post_training")
        recorded = record_dataset(store, version)
        store.record_dataset_replies(replies)
        return recorded

    return writes(write)


def recorded_report(report: dict[str, object]) -> dict[str, object]:
    """The report as the database keeps it: everything but the list of
    rejected replies, which stays in the version's report.json. At 100,000
    replies that list is over 5 MB, and writing it with every build held the
    write lock long enough to stall the bot's acks (and grew the file by as
    much per build)."""
    rejections = report.get("rejections")
    if not isinstance(rejections, dict):
        return report
    counted = {key: value for key, value in rejections.items() if key != "replies"}
    return {**report, "rejections": counted}
