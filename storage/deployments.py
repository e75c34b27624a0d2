"""Deployment history beyond the live row: promotion, rollback and provenance (mixed into Store)."""

import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlite_utils import Database
from sqlite_utils.db import Table

from storage.records import DatasetReplies, Deployment, Provenance, TrainingRun

# Rows of dataset provenance written per write transaction (see record_dataset_replies).
PROVENANCE_ROWS_PER_TRANSACTION = 1000
PROVENANCE_PAUSE_SECONDS = 0.001


class DeploymentTables:
    """Promotion and rollback append deployment rows; provenance reads them back."""

    db: Database
    # Store's: whether long writes leave the lock free between their transactions.
    pause_long_writes: bool
    transaction: Callable[[], AbstractContextManager[Database]]
    # Store.reading: this thread's own read connection, so a read never waits for
    # a write of another thread (nor holds one up).
    reading: Callable[[], AbstractContextManager[Database]]
    table: Callable[[str], Table]
    deploy: Callable[..., Deployment]
    run: Callable[[int], TrainingRun | None]
    update_run: Callable[..., TrainingRun | None]

    def deployments(self, limit: int | None = None) -> list[Deployment]:
        """Deployment history, newest first."""
        with self.reading() as db:
            rows = db.table("deployments").rows_where(order_by="id desc", limit=limit)
            return [Deployment(**r) for r in rows]

    def promote(
        self, run_id: int, *, model: str, prompt_id: str, base_url: str | None, note: str
    ) -> Deployment | None:
        """Make a run's trained model live, once: the run moves to `promoted`
        and the deployment row is appended in one transaction, and only from
        `evaluating` or `held` (None when another caller promoted it first).
        `model` is the name the serving side answers to."""
        with self.transaction():
            run = self.update_run(
                run_id,
                expect=("evaluating", "held"),
                status="promoted",
                serve_base_url=base_url,
            )
            if run is None:
                return None
            return self.deploy(
                model,
                prompt_id,
                "promotion",
                base_url=base_url,
                note=note,
                run_id=run.id,
                dataset_id=run.dataset_id,
            )

    def rollback_target(self) -> Deployment | None:
        """The deployment a rollback would restore: the one live before the
        live one was deployed. Deployments behave as a stack: a promotion (or a
        configuration change) pushes, a rollback pops, so rolling back twice
        goes back two steps rather than undoing the first rollback."""
        with self.reading() as db:
            rows = [Deployment(**r) for r in db.table("deployments").rows_where(order_by="id")]
        stack: list[Deployment] = []
        for row in rows:
            if row.origin == "rollback" and len(stack) > 1:
                stack.pop()
            elif row.origin != "rollback":
                stack.append(row)
        return stack[-2] if len(stack) > 1 else None

    def rollback(self, note: str) -> Deployment | None:
        """Append a row restoring the previous deployment (None when there is
        none); history is never deleted."""
        with self.transaction():
            target = self.rollback_target()
            if target is None:
                return None
            return self.deploy(
                target.model,
                target.prompt_id,
                "rollback",
                base_url=target.base_url,
                note=note,
                run_id=target.run_id,
                dataset_id=target.dataset_id,
                restores_id=target.id,
            )

    # -- provenance ----------------------------------------------------------------

    def record_dataset_replies(self, replies: DatasetReplies) -> None:
        """Records which replies a dataset version was built from; recording
        them again adds nothing."""
        dataset_id, rows = replies.dataset_id, replies.rows
        # A version's id is a hash of its files, so its rows are always these:
        # as many recorded as given means all of them are. A /retrain that
        # changed nothing then writes nothing, instead of 40,000 ignored rows.
        with self.reading() as db:
            (recorded,) = db.execute(
                "SELECT COUNT(*) FROM dataset_replies WHERE dataset_id = ?", [dataset_id]
            ).fetchone()
        if recorded == len(rows):
            return
        # Short transactions with a pause between them, because the bot writes
        # each vote before its ack: one transaction over 40,000 rows held the
        # write lock for ~150 ms, and a writer that takes the lock back at once
        # starves the bot, whose busy handler polls with sleeps of 1, 2, 5 ms
        # and more. 1,000 rows hold it about 2 ms, and the pause is as long as
        # that first sleep, so a vote that finds the lock taken gets it at its
        # first or second retry. Shorter transactions cost more than they
        # save: with 200 rows a dry run beside a stream of mentions spent
        # about 0.8 s recording 41,000 rows, most of it waking from its 205
        # pauses on a busy machine; with 1,000, 0.2-0.35 s.
        # Recording is idempotent and a build records again whatever is
        # missing, so a version whose recording was cut short is completed
        # the next time it is built.
        for start in range(0, len(rows), PROVENANCE_ROWS_PER_TRANSACTION):
            if start and self.pause_long_writes:
                time.sleep(PROVENANCE_PAUSE_SECONDS)
            with self.transaction() as db:
                db.conn.executemany(
                    "INSERT OR IGNORE INTO dataset_replies (dataset_id, channel, ts, split)"
                    " VALUES (?, ?, ?, ?)",
                    rows[start : start + PROVENANCE_ROWS_PER_TRANSACTION],
                )

    def newest_dataset(self) -> tuple[str, str] | None:
        """(id, created_at) of the dataset version built last, by any dry run,
        `voiceloop curate` or run; None before the first."""
        with self.reading() as db:
            row = db.execute(
                "SELECT id, created_at FROM datasets ORDER BY created_at DESC, rowid DESC LIMIT 1"
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def replies_beyond(self, dataset_id: str, since_dataset_id: str | None) -> int:
        """How many of a version's replies `since_dataset_id` was not built
        from: the examples kept since then."""
        with self.reading() as db:
            (count,) = db.execute(
                """
                SELECT count(*) FROM dataset_replies AS kept WHERE kept.dataset_id = ?
                AND NOT EXISTS (
                    SELECT 1 FROM dataset_replies AS before WHERE before.dataset_id = ?
                    AND before.channel = kept.channel AND before.ts = kept.ts
                )
                """,
                [dataset_id, since_dataset_id or ""],
            ).fetchone()
        return int(count)

    def dataset_reply_keys(self, dataset_id: str) -> set[str]:
        """The "channel/ts" keys of the replies a dataset version was built from."""
        with self.reading() as db:
            rows = db.execute(
                "SELECT channel, ts FROM dataset_replies WHERE dataset_id = ?", [dataset_id]
            ).fetchall()
        return {f"{channel}/{ts}" for channel, ts in rows}

    def ratings_since(self, since: str) -> tuple[int, int]:
        """Votes and corrections given or changed after `since` (an ISO time)."""
        with self.reading() as db:
            votes = db.table("votes").count_where("updated_at > ?", [since])
            corrections = db.table("corrections").count_where("created_at > ?", [since])
        return votes, corrections

    def mean_prompt_tokens(self, deployment_id: int) -> float | None:
        """Mean prompt tokens per reply a deployment answered with, as the model counted."""
        with self.reading() as db:
            (mean,) = db.execute(
                "SELECT avg(prompt_tokens) FROM replies WHERE deployment_id = ?",
                [deployment_id],
            ).fetchone()
        return None if mean is None else float(mean)

    def provenance(self, deployment_id: int) -> Provenance:
        """A deployment ← its run ← its dataset version ← the replies, votes and
        corrections that version was built from."""
        with self.reading() as db:
            deployment = Deployment(**db.table("deployments").get(deployment_id))
            run = self.run(deployment.run_id) if deployment.run_id is not None else None
            dataset_id = deployment.dataset_id
            counts: dict[str, int] = {}
            votes = corrections = 0
            if dataset_id is not None:
                counts = dict(
                    db.execute(
                        "SELECT split, count(*) FROM dataset_replies WHERE dataset_id = ? "
                        "GROUP BY split",
                        [dataset_id],
                    ).fetchall()
                )
                votes, corrections = db.execute(
                    "SELECT (SELECT count(*) FROM votes v JOIN dataset_replies d "
                    "ON v.channel = d.channel AND v.ts = d.ts WHERE d.dataset_id = ?), "
                    "(SELECT count(*) FROM corrections c JOIN dataset_replies d "
                    "ON c.channel = d.channel AND c.ts = d.ts WHERE d.dataset_id = ?)",
                    [dataset_id, dataset_id],
                ).fetchone()
        return Provenance(deployment, run, dataset_id, counts, votes, corrections)
