"""SQLite storage: the schema, its migrations and typed reads and writes."""

from storage.records import ChatTurn, Correction, Deployment, Prompt, Reply, Vote
from storage.store import Store

__all__ = ["ChatTurn", "Correction", "Deployment", "Prompt", "Reply", "Store", "Vote"]
