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


@migrations()
def m010_runs(db: Database) -> None:
    # One row per training run, from the dataset version it trains on to the
    # gate's summary. Metrics are a real document (whatever the backend
    # reports), hence JSON.
    db.table("runs").create(
        {
            "id": int,
            "backend": str,
            "base_model": str,
            "dataset_id": str,
            "job_id": str,
            "status": str,
            "requested_by": str,
            "trained_tokens": int,
            "metrics": str,
            "error": str,
            "trained_model": str,
            "serve_base_url": str,
            "win_rate": float,
            "win_rate_low": float,
            "win_rate_high": float,
            "flip_rate": float,
            "length_ratio": float,
            "rule_pass_candidate": float,
            "rule_pass_live": float,
            "decision": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("dataset_id", "datasets", "id")],
        not_null={"backend", "base_model", "dataset_id", "status", "created_at", "updated_at"},
    )
    # At most one run in flight, whoever starts it: a unique index on a
    # constant, over in-flight rows only, refuses the second.
    db.execute(
        "CREATE UNIQUE INDEX runs_one_in_flight ON runs((1)) "
        "WHERE status IN ('preparing', 'submitted', 'running', 'evaluating')"
    )


@migrations()
def m011_run_events(db: Database) -> None:
    # A run's history as it happened; `ref` is the provider's event id, unique
    # per run, so polling the same events again after a restart adds nothing.
    db.table("run_events").create(
        {
            "id": int,
            "run_id": int,
            "at": str,
            "kind": str,
            "message": str,
            "data": str,
            "ref": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
        not_null={"run_id", "at", "kind", "message"},
    )
    db.table("run_events").create_index(["run_id", "ref"], unique=True)


@migrations()
def m012_evaluations(db: Database) -> None:
    # One row per held-out prompt the gate judged; keyed by (run, prompt) so a
    # resumed evaluation skips what it already judged.
    db.table("evaluations").create(
        {
            "run_id": int,
            "prompt_key": str,
            "prompt": str,
            "candidate_reply": str,
            "live_reply": str,
            "verdict_ab": str,
            "verdict_ba": str,
            "outcome": str,
            "candidate_rules_ok": int,
            "live_rules_ok": int,
            "created_at": str,
        },
        pk=("run_id", "prompt_key"),
        foreign_keys=[("run_id", "runs", "id")],
        not_null={"prompt", "candidate_reply", "live_reply", "outcome", "created_at"},
    )


@migrations()
def m013_deployment_provenance(db: Database) -> None:
    # Provenance: a deployment names the run and dataset version it came from
    # (and, for a rollback, the row it restores); a dataset version names the
    # replies it was built from, whose votes and corrections are keyed by them.
    deployments = db.table("deployments")
    deployments.add_column("run_id", int, fk="runs", fk_col="id")
    deployments.add_column("dataset_id", str, fk="datasets", fk_col="id")
    deployments.add_column("restores_id", int)
    db.table("dataset_replies").create(
        {"dataset_id": str, "channel": str, "ts": str, "split": str},
        pk=("dataset_id", "channel", "ts"),
        foreign_keys=[("dataset_id", "datasets", "id")],
        not_null={"split"},
    )


@migrations()
def m008_event_claims(db: Database) -> None:
    # A message is answered once: its claim says who is working on it and
    # whether the reply was posted and stored, so failed or crashed work can be
    # redone. The message itself is kept so a restart can answer it without
    # Slack delivering it again.
    db.table("claims").create(
        {
            "channel": str,
            "ts": str,
            "thread_ts": str,
            "user": str,
            "text": str,
            "state": str,  # claimed -> answered, or released when the work failed
            "claimed_by": str,
            "claimed_at": str,
            "attempts": int,
            "placeholder_ts": str,
            "reply_ts": str,
            "answered_at": str,
        },
        pk=("channel", "ts"),
        not_null={"channel", "ts", "state", "claimed_by", "claimed_at", "attempts"},
    )
    db.table("claims").create_index(["state"])
    # Messages handled before claims had a state were answered (or given up on)
    # then; a restart must not answer them again.
    db.execute(
        """
        INSERT OR IGNORE INTO claims
            (channel, ts, user, text, state, claimed_by, claimed_at, attempts, answered_at)
        SELECT substr(rest, 1, instr(rest, ':') - 1), substr(rest, instr(rest, ':') + 1),
               '', '', 'answered', 'before claims', received_at, 1, received_at
        FROM (SELECT substr(key, 9) AS rest, received_at FROM events WHERE key LIKE 'message:%')
        """
    )
    db.execute("DELETE FROM events WHERE key LIKE 'message:%'")


@migrations()
def m009_vote_order(db: Database) -> None:
    # Each person's verdicts apply in Slack's event order whatever order they
    # arrive in: every reaction, removal and click is logged with its event_ts,
    # and the vote row is the log replayed in that order (a vote holds the
    # event_ts of the verdict it came from).
    db.table("votes").add_column("event_ts", str)
    db.table("vote_events").create(
        {
            "channel": str,
            "ts": str,
            "user": str,
            "source": str,
            "value": int,  # +1, -1, or NULL for a removed reaction
            "event_ts": str,
            "received_at": str,
        },
        pk=("channel", "ts", "user", "source", "event_ts"),
        foreign_keys=[(("channel", "ts"), "replies", ("channel", "ts"))],
        not_null={"received_at"},
    )


@migrations()
def m014_imported_channels(db: Database) -> None:
    # What each channel's last complete import read, so importing the same
    # export again skips the channels whose day files and settings are unchanged.
    db.table("imported_channels").create(
        {
            "channel": str,
            "files_digest": str,  # sha256 over the day files' fingerprints
            "settings_digest": str,  # sha256 of the import policy and reader version
            "replies": int,
            "votes": int,
            "imported_at": str,
        },
        pk="channel",
        not_null={"files_digest", "settings_digest", "replies", "votes", "imported_at"},
    )
