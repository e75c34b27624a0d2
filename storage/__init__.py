"""SQLite storage: every table, its migrations, typed reads and writes, and the rules about rows."""

from storage.checkpoints import WalCheckpointer
from storage.datasets import DatasetVersion, dataset_version, record_dataset
from storage.intake import Intake
from storage.records import (
    IN_FLIGHT,
    RUN_STATUSES,
    Arrival,
    ChatTurn,
    Claim,
    Correction,
    DatasetReplies,
    Deployment,
    Evaluation,
    ImportedChannel,
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
from storage.store import StorageError, Store, now, prompt_id_for
from storage.vote_events import VoteEvent, ts_order

__all__ = [
    "IN_FLIGHT",
    "RUN_STATUSES",
    "Arrival",
    "ChatTurn",
    "Claim",
    "Correction",
    "DatasetReplies",
    "DatasetVersion",
    "Deployment",
    "Evaluation",
    "ImportedChannel",
    "Intake",
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
    "VoteEvent",
    "WalCheckpointer",
    "dataset_version",
    "now",
    "prompt_id_for",
    "record_dataset",
    "ts_order",
]
