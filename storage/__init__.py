"""SQLite storage: every table, its migrations, typed reads and writes, and the rules about rows."""

from storage.datasets import DatasetVersion, dataset_version, record_dataset
from storage.records import (
    IN_FLIGHT,
    RUN_STATUSES,
    ChatTurn,
    Correction,
    Deployment,
    Evaluation,
    Outcome,
    Prompt,
    Provenance,
    Reply,
    RunEvent,
    RunEventKind,
    RunStatus,
    TrainingRun,
    Verdict,
    Vote,
)
from storage.runs import RunInFlightError
from storage.store import StorageError, Store, now

__all__ = [
    "IN_FLIGHT",
    "RUN_STATUSES",
    "ChatTurn",
    "Correction",
    "DatasetVersion",
    "Deployment",
    "Evaluation",
    "Outcome",
    "Prompt",
    "Provenance",
    "Reply",
    "RunEvent",
    "RunEventKind",
    "RunInFlightError",
    "RunStatus",
    "StorageError",
    "Store",
    "TrainingRun",
    "Verdict",
    "Vote",
    "dataset_version",
    "now",
    "record_dataset",
]
