"""The schema as an append-only list of named migrations (never edit one that shipped)."""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("voiceloop")


@migrations()
def m001_prompts(db: Database) -> None:
    # Content-addressed: the same text always gets the same id, so a reply can
    # point at exactly the prompt it was generated with.
    db.table("prompts").create(
        {"id": str, "kind": str, "content": str, "created_at": str},
        pk="id",
    )


@migrations()
def m002_deployments(db: Database) -> None:
    # Append-only history; the newest row is live and rollback appends a row.
    db.table("deployments").create(
        {
            "id": int,
            "model": str,
            "base_url": str,
            "prompt_id": str,
            "origin": str,
            "note": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("prompt_id", "prompts", "id")],
        not_null={"model", "prompt_id", "origin", "created_at"},
    )


@migrations()
def m003_replies(db: Database) -> None:
    # Keyed by Slack's own message address so votes and corrections, which
    # arrive as (channel, ts), find their reply without a lookup table.
    db.table("replies").create(
        {
            "channel": str,
            "ts": str,
            "thread_ts": str,
            "asked_by": str,
            "question": str,
            "context": str,
            "text": str,
            "model": str,
            "prompt_id": str,
            "deployment_id": int,
            "prompt_tokens": int,
            "completion_tokens": int,
            "latency_ms": int,
            "origin": str,
            "created_at": str,
        },
        pk=("channel", "ts"),
        not_null={"channel", "ts", "text", "origin", "created_at"},
    )
    db.table("replies").create_index(["channel", "thread_ts"])


@migrations()
def m004_votes(db: Database) -> None:
    db.table("votes").create(
        {
            "channel": str,
            "ts": str,
            "user": str,
            "value": int,
            "source": str,
            "updated_at": str,
        },
        pk=("channel", "ts", "user"),
        foreign_keys=[(("channel", "ts"), "replies", ("channel", "ts"))],
        not_null={"value", "source", "updated_at"},
    )


@migrations()
def m005_corrections(db: Database) -> None:
    # One correction per person per reply; a second submission replaces theirs.
    db.table("corrections").create(
        {"channel": str, "ts": str, "user": str, "text": str, "created_at": str},
        pk=("channel", "ts", "user"),
        foreign_keys=[(("channel", "ts"), "replies", ("channel", "ts"))],
        not_null={"text", "created_at"},
    )


@migrations()
def m006_events(db: Database) -> None:
    # Delivery keys already handled; Slack retries and duplicates hit this first.
    db.table("events").create({"key": str, "received_at": str}, pk="key")


@migrations()
def m007_datasets(db: Database) -> None:
    # Content-addressed like prompts: curating the same ratings twice gives the
    # same id, so a rerun records nothing new. The report is a real document
    # (every rejected reply and why), hence JSON.
    db.table("datasets").create(
        {
            "id": str,
            "path": str,
            "base_model": str,
            "prompt_id": str,
            "train_examples": int,
            "validation_examples": int,
            "preference_pairs": int,
            "train_tokens": int,
            "validation_tokens": int,
            "epochs": int,
            "estimated_cost_usd": float,
            "files": str,
            "report": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("prompt_id", "prompts", "id")],
        not_null={"path", "base_model", "prompt_id", "files", "report", "created_at"},
    )
