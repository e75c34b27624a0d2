"""The schema test: migrate, compare every table's columns, migrate again."""

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage.migrations import migrations
from storage.store import StorageError, Store

EXPECTED = {
    "prompts": ["id", "kind", "content", "created_at"],
    "deployments": [
        "id",
        "model",
        "base_url",
        "prompt_id",
        "origin",
        "note",
        "created_at",
        "run_id",
        "dataset_id",
        "restores_id",
    ],
    "replies": [
        "channel",
        "ts",
        "thread_ts",
        "asked_by",
        "question",
        "context",
        "text",
        "model",
        "prompt_id",
        "deployment_id",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
        "origin",
        "created_at",
    ],
    "votes": ["channel", "ts", "user", "value", "source", "updated_at", "event_ts"],
    "corrections": ["channel", "ts", "user", "text", "created_at"],
    "events": ["key", "received_at"],
    "datasets": [
        "id",
        "path",
        "base_model",
        "prompt_id",
        "train_examples",
        "validation_examples",
        "preference_pairs",
        "train_tokens",
        "validation_tokens",
        "epochs",
        "estimated_cost_usd",
        "files",
        "report",
        "created_at",
    ],
    "runs": [
        "id",
        "backend",
        "base_model",
        "dataset_id",
        "job_id",
        "status",
        "requested_by",
        "trained_tokens",
        "metrics",
        "error",
        "trained_model",
        "serve_base_url",
        "win_rate",
        "win_rate_low",
        "win_rate_high",
        "flip_rate",
        "length_ratio",
        "rule_pass_candidate",
        "rule_pass_live",
        "decision",
        "created_at",
        "updated_at",
    ],
    "run_events": ["id", "run_id", "at", "kind", "message", "data", "ref"],
    "evaluations": [
        "run_id",
        "prompt_key",
        "prompt",
        "candidate_reply",
        "live_reply",
        "verdict_ab",
        "verdict_ba",
        "outcome",
        "candidate_rules_ok",
        "live_rules_ok",
        "created_at",
    ],
    "dataset_replies": ["dataset_id", "channel", "ts", "split"],
    "claims": [
        "channel",
        "ts",
        "thread_ts",
        "user",
        "text",
        "state",
        "claimed_by",
        "claimed_at",
        "attempts",
        "placeholder_ts",
        "reply_ts",
        "answered_at",
    ],
    "vote_events": ["channel", "ts", "user", "source", "value", "event_ts", "received_at"],
    "imported_channels": [
        "channel",
        "files_digest",
        "settings_digest",
        "replies",
        "votes",
        "imported_at",
    ],
}


def columns(db: Database) -> dict[str, list[str]]:
    return {
        t.name: [c.name for c in t.columns] for t in db.tables if not t.name.startswith("_sqlite")
    }


def test_migrations_create_expected_tables() -> None:
    db = Database(memory=True)
    migrations.apply(db)
    assert columns(db) == EXPECTED


def test_migrating_again_changes_nothing() -> None:
    db = Database(memory=True)
    migrations.apply(db)
    before = {t.name: t.schema for t in db.tables}
    migrations.apply(db)
    assert {t.name: t.schema for t in db.tables} == before
    assert migrations.pending(db) == []


def test_store_opens_an_existing_database_and_migrates_it_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(path)
    # An older database that stopped after the first two migrations.
    migrations.apply(db, stop_before="m003_replies")
    db.close()
    store = Store(path)
    assert columns(store.db) == EXPECTED
    assert store.db.journal_mode == "wal"


def test_store_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StorageError, match="not a usable voiceloop database"):
        Store(path)


def test_foreign_keys_are_enforced() -> None:
    store = Store(":memory:")
    with pytest.raises(sqlite3.IntegrityError):
        store.record_vote("C1", "1.0", "U1", 1, "reaction:+1")


def test_messages_answered_before_claims_had_a_state_stay_answered() -> None:
    db = Database(memory=True)
    migrations.apply(db, stop_before="m008_event_claims")
    db.table("events").insert_all(
        [
            {"key": "message:C1:100.000200", "received_at": "2026-11-30T10:00:00.000+00:00"},
            {"key": "event:Ev1", "received_at": "2026-11-30T10:00:00.000+00:00"},
        ]
    )
    migrations.apply(db)
    claims = list(db.table("claims").rows)
    assert [(c["channel"], c["ts"], c["state"]) for c in claims] == [
        ("C1", "100.000200", "answered")
    ]
    assert [e["key"] for e in db.table("events").rows] == ["event:Ev1"]
