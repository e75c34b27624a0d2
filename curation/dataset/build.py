"""Building a dataset version end to end: read the store, curate, write, record."""

from dataclasses import dataclass
from pathlib import Path

from curation.dataset.collector import cycle_collector_paused
from curation.dataset.files import data_files, dataset_id, file_hashes, write_version
from curation.dataset.pipeline import CuratedDataset, CurationConfig, Progress, curate
from curation.dataset.source import labeled_replies
from storage import DatasetVersion, Store, record_dataset


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
) -> BuildResult:
    """`progress` hears curation's (stage, done, total), as curate() tells it."""
    # The read, curation and the files make millions of acyclic objects; the
    # collector would walk them again and again to free nothing.
    with cycle_collector_paused():
        return _build(store, config, out_root, dry_run=dry_run, progress=progress)


def _build(
    store: Store,
    config: CurationConfig,
    out_root: Path,
    *,
    dry_run: bool,
    progress: Progress | None,
) -> BuildResult:
    curated = curate(labeled_replies(store), config, progress)
    if dry_run or not curated.train:
        return BuildResult(curated, None)
    files = data_files(curated)
    epochs = curated.estimate.epochs
    version_id = dataset_id(files, config.base_model, epochs)
    report = curated.report()
    path = write_version(out_root, version_id, files, report)
    prompt = store.ensure_prompt(config.system_prompt, "post_training")
    version = record_dataset(
        store,
        DatasetVersion(
            id=version_id,
            path=str(path),
            base_model=config.base_model,
            prompt_id=prompt.id,
            train_examples=len(curated.train),
            validation_examples=len(curated.validation),
            preference_pairs=len(curated.train_pairs) + len(curated.validation_pairs),
            train_tokens=curated.train_tokens,
            validation_tokens=curated.validation_tokens,
            epochs=epochs,
            estimated_cost_usd=curated.estimate.usd,
            files=file_hashes(files),
            report=recorded_report(report),
        ),
    )
    # Provenance: which replies this version holds (preference pairs come from
    # the same replies' corrections, so train and validation cover them).
    store.record_dataset_replies(
        version.id,
        {
            "train": [e.key for e in curated.train],
            "validation": [e.key for e in curated.validation],
        },
    )
    return BuildResult(curated, version)


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
