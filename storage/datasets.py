"""Dataset versions: what each curated dataset held, where its files are, what it costs."""

import json
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils.db import NotFoundError

from storage.store import Store, now


@dataclass(frozen=True)
class DatasetVersion:
    id: str
    path: str
    base_model: str
    prompt_id: str
    train_examples: int
    validation_examples: int
    preference_pairs: int
    train_tokens: int
    validation_tokens: int
    epochs: int
    estimated_cost_usd: float | None
    # File name -> sha256 of its bytes, for every file in the version's folder.
    files: dict[str, str] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""


def record_dataset(store: Store, version: DatasetVersion) -> DatasetVersion:
    """Record a version once; recording the same id again keeps the first row but
    points it at the folder just written."""
    row = dict(vars(version))
    row["files"] = json.dumps(version.files, sort_keys=True)
    row["report"] = json.dumps(version.report, ensure_ascii=False)
    row["created_at"] = version.created_at or now()
    with store.transaction() as db:
        table = db.table("datasets")
        table.insert(row, ignore=True)
        # The same files may have been written to another folder since; the
        # recorded path is where they are now.
        table.update(version.id, {"path": version.path})
    found = dataset_version(store, version.id)
    assert found is not None
    return found


def dataset_version(store: Store, dataset_id: str) -> DatasetVersion | None:
    with store.reading() as db:
        try:
            row = db.table("datasets").get(dataset_id)
        except NotFoundError:
            return None
    return _version(row)


def _version(row: dict[str, Any]) -> DatasetVersion:
    row["files"] = json.loads(row["files"])
    row["report"] = json.loads(row["report"])
    return DatasetVersion(**row)
