"""SQLite storage: every table, its migrations, typed reads and writes, and the rules about rows."""

from storage.datasets import DatasetVersion, dataset_version, record_dataset
from storage.records import ChatTurn, Correction, Deployment, Prompt, Reply, Vote
from storage.store import StorageError, Store, now

__all__ = [
    "ChatTurn",
    "Correction",
    "DatasetVersion",
    "Deployment",
    "Prompt",
    "Reply",
    "StorageError",
    "Store",
    "Vote",
    "dataset_version",
    "now",
    "record_dataset",
]
