"""The Store: one SQLite database, migrated on open, with typed reads and writes."""

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError, Table

from storage.clock import now as now
from storage.migrations import migrations
from storage.records import (
    ChatTurn,
    Correction,
    Deployment,
    Prompt,
    PromptKind,
    Provenance,
    Reply,
    Vote,
)
from storage.runs import RunTables


def prompt_id_for(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


class StorageError(Exception):
    """The database could not be opened or migrated."""


class Store(RunTables):
    """Typed access to the voiceloop database.

    One connection guarded by a lock: Bolt runs listeners on a thread pool, and
    a small team's write rate is far below what one SQLite connection serves.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
        except sqlite3.Error as e:
            raise StorageError(f"cannot open database {self.path}: {e}") from e
        self.db = Database(conn)
        self._lock = threading.RLock()
        try:
            if self.path != ":memory:":
                # WAL lets `voiceloop curate` read while the bot writes.
                self.db.enable_wal()
            self.db.execute("PRAGMA foreign_keys = ON")
            migrations.apply(self.db)
        except sqlite3.DatabaseError as e:
            raise StorageError(f"{self.path} is not a usable voiceloop database: {e}") from e

    def close(self) -> None:
        # Under the lock, so a write still running on another thread finishes first.
        with self._lock:
            self.db.close()

    def table(self, name: str) -> Table:
        return self.db.table(name)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One atomic unit of work on the shared connection: listeners write
        from a thread pool, so the lock keeps their statements apart."""
        with self._lock, self.db.atomic():
            yield self.db

    @contextmanager
    def reading(self) -> Iterator[Database]:
        """The connection for a read that must not interleave with a write."""
        with self._lock:
            yield self.db

    # -- delivery de-duplication ---------------------------------------------

    def claim_event(self, key: str) -> bool:
        """Record a delivery key; True only the first time the key is seen."""
        with self._lock:
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO events (key, received_at) VALUES (?, ?)", [key, now()]
            )
            self.db.conn.commit()
            return cursor.rowcount == 1

    def prune_events(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Forget delivery keys Slack can no longer retry (it gives up within
        minutes), so the table stays small on a long-running bot."""
        cutoff = (datetime.now(UTC) - older_than).isoformat(timespec="milliseconds")
        with self._lock:
            cursor = self.db.execute("DELETE FROM events WHERE received_at < ?", [cutoff])
            self.db.conn.commit()
            return cursor.rowcount

    # -- prompts and deployments ---------------------------------------------

    def ensure_prompt(self, content: str, kind: PromptKind) -> Prompt:
        prompt = Prompt(id=prompt_id_for(content), kind=kind, content=content, created_at=now())
        with self._lock, self.db.atomic():
            self.table("prompts").insert(_row(prompt), ignore=True)
        return self.prompt(prompt.id)

    def prompt(self, prompt_id: str) -> Prompt:
        with self._lock:
            return Prompt(**self.table("prompts").get(prompt_id))

    def deploy(
        self,
        model: str,
        prompt_id: str,
        origin: str,
        *,
        base_url: str | None = None,
        note: str | None = None,
        run_id: int | None = None,
        dataset_id: str | None = None,
        restores_id: int | None = None,
    ) -> Deployment:
        with self._lock, self.db.atomic():
            table = self.table("deployments")
            table.insert(
                {
                    "model": model,
                    "prompt_id": prompt_id,
                    "origin": origin,
                    "base_url": base_url,
                    "note": note,
                    "created_at": now(),
                    "run_id": run_id,
                    "dataset_id": dataset_id,
                    "restores_id": restores_id,
                }
            )
            assert table.last_pk is not None
            return Deployment(**table.get(table.last_pk))

    def deployments(self, limit: int | None = None) -> list[Deployment]:
        """Deployment history, newest first."""
        with self._lock:
            rows = self.table("deployments").rows_where(order_by="id desc", limit=limit)
            return [Deployment(**r) for r in rows]

    def promote(
        self, run_id: int, *, model: str, prompt_id: str, base_url: str | None, note: str
    ) -> Deployment | None:
        """Make a run's trained model live, once: the run moves to `promoted`
        and the deployment row is appended in one transaction, and only from
        `evaluating` or `held` (None when another caller promoted it first).
        `model` is the name the serving side answers to."""
        with self._lock, self.db.atomic():
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
        with self._lock:
            rows = [Deployment(**r) for r in self.table("deployments").rows_where(order_by="id")]
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
        with self._lock, self.db.atomic():
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

    def record_dataset_replies(self, dataset_id: str, replies: dict[str, list[str]]) -> None:
        """Which replies (Slack "channel/ts" keys) a dataset version was built
        from, by split; recording them again adds nothing."""
        rows = [
            {
                "dataset_id": dataset_id,
                "channel": key.partition("/")[0],
                "ts": key.partition("/")[2],
                "split": split,
            }
            for split, keys in replies.items()
            for key in keys
        ]
        with self._lock, self.db.atomic():
            self.table("dataset_replies").insert_all(rows, ignore=True, batch_size=1000)

    def dataset_reply_keys(self, dataset_id: str) -> set[str]:
        """The "channel/ts" keys of the replies a dataset version was built from."""
        with self._lock:
            rows = self.db.execute(
                "SELECT channel, ts FROM dataset_replies WHERE dataset_id = ?", [dataset_id]
            ).fetchall()
        return {f"{channel}/{ts}" for channel, ts in rows}

    def ratings_since(self, since: str) -> tuple[int, int]:
        """Votes and corrections given or changed after `since` (an ISO time)."""
        with self._lock:
            votes = self.table("votes").count_where("updated_at > ?", [since])
            corrections = self.table("corrections").count_where("created_at > ?", [since])
        return votes, corrections

    def mean_prompt_tokens(self, deployment_id: int) -> float | None:
        """Mean prompt tokens per reply a deployment answered with, as the model counted."""
        with self._lock:
            (mean,) = self.db.execute(
                "SELECT avg(prompt_tokens) FROM replies WHERE deployment_id = ?",
                [deployment_id],
            ).fetchone()
        return None if mean is None else float(mean)

    def provenance(self, deployment_id: int) -> Provenance:
        """A deployment ← its run ← its dataset version ← the replies, votes and
        corrections that version was built from."""
        with self._lock:
            deployment = Deployment(**self.table("deployments").get(deployment_id))
            run = self.run(deployment.run_id) if deployment.run_id is not None else None
            dataset_id = deployment.dataset_id
            counts: dict[str, int] = {}
            votes = corrections = 0
            if dataset_id is not None:
                counts = dict(
                    self.db.execute(
                        "SELECT split, count(*) FROM dataset_replies WHERE dataset_id = ? "
                        "GROUP BY split",
                        [dataset_id],
                    ).fetchall()
                )
                votes, corrections = self.db.execute(
                    "SELECT (SELECT count(*) FROM votes v JOIN dataset_replies d "
                    "ON v.channel = d.channel AND v.ts = d.ts WHERE d.dataset_id = ?), "
                    "(SELECT count(*) FROM corrections c JOIN dataset_replies d "
                    "ON c.channel = d.channel AND c.ts = d.ts WHERE d.dataset_id = ?)",
                    [dataset_id, dataset_id],
                ).fetchone()
        return Provenance(deployment, run, dataset_id, counts, votes, corrections)

    def live_deployment(self) -> Deployment | None:
        with self._lock:
            rows = list(self.table("deployments").rows_where(order_by="id desc", limit=1))
        return Deployment(**rows[0]) if rows else None

    def deploy_configured(self, model: str, voice_guide: str) -> Deployment:
        """Makes the configured chat model + voice guide live until training promotes a model.

        While the live deployment still comes from configuration, a changed model
        or guide is deployed on start (appending a row, so history is kept); once
        a trained model was promoted or rolled back to, configuration no longer
        overrides it.
        """
        prompt = self.ensure_prompt(voice_guide, "voice_guide")
        with self._lock:
            live = self.live_deployment()
            if live is not None and (
                live.origin != "config" or (live.model, live.prompt_id) == (model, prompt.id)
            ):
                return live
            return self.deploy(
                model, prompt.id, "config", note="configured chat model and voice guide"
            )

    # -- replies ---------------------------------------------------------------

    def save_reply(self, reply: Reply) -> None:
        row = _row(reply)
        row["context"] = json.dumps([_row(t) for t in reply.context], ensure_ascii=False)
        row["created_at"] = reply.created_at or now()
        with self._lock, self.db.atomic():
            self.table("replies").upsert(row, pk=("channel", "ts"))

    def reply(self, channel: str, ts: str) -> Reply | None:
        with self._lock:
            try:
                row = self.table("replies").get((channel, ts))
            except NotFoundError:
                return None
        return _reply(row)

    def replies(self, where: str | None = None, params: list[Any] | None = None) -> Iterator[Reply]:
        with self._lock:
            rows = list(self.table("replies").rows_where(where, params or [], order_by="rowid"))
        for row in rows:
            yield _reply(row)

    def bot_in_thread(self, channel: str, thread_ts: str) -> bool:
        """Whether the bot has replied in this thread (so follow-ups need no mention)."""
        with self._lock:
            return (
                self.table("replies").count_where(
                    "channel = ? AND (thread_ts = ? OR ts = ?)", [channel, thread_ts, thread_ts]
                )
                > 0
            )

    # -- votes and corrections ---------------------------------------------------

    def record_vote(self, channel: str, ts: str, user: str, value: int, source: str) -> Vote:
        if value not in (1, -1):
            raise ValueError(f"a vote is +1 or -1, not {value}")
        vote = Vote(channel, ts, user, value, source, now())
        with self._lock, self.db.atomic():
            self.table("votes").upsert(_row(vote), pk=("channel", "ts", "user"))
        return vote

    def remove_vote(self, channel: str, ts: str, user: str, source: str) -> bool:
        """Remove the user's vote if it came from `source` (a later vote from
        another reaction or button stays: the latest verdict wins)."""
        with self._lock, self.db.atomic():
            cursor = self.db.execute(
                "DELETE FROM votes WHERE channel = ? AND ts = ? AND user = ? AND source = ?",
                [channel, ts, user, source],
            )
            return cursor.rowcount == 1

    def votes(self, channel: str | None = None, ts: str | None = None) -> list[Vote]:
        where, params = _address(channel, ts)
        with self._lock:
            return [Vote(**r) for r in self.table("votes").rows_where(where, params)]

    def save_correction(self, channel: str, ts: str, user: str, text: str) -> Correction:
        correction = Correction(channel, ts, user, text, now())
        with self._lock, self.db.atomic():
            self.table("corrections").upsert(_row(correction), pk=("channel", "ts", "user"))
        return correction

    def corrections(self, channel: str | None = None, ts: str | None = None) -> list[Correction]:
        where, params = _address(channel, ts)
        with self._lock:
            return [Correction(**r) for r in self.table("corrections").rows_where(where, params)]

    # -- history imported from a Slack export --------------------------------------

    def import_history(self, replies: list[Reply], votes: list[Vote]) -> tuple[int, int]:
        """Write one import in one transaction; returns how many replies and votes were new.

        A live reply is never overwritten (it knows the model and prompt the
        export does not), nor is a vote already recorded on one (the live bot
        saw every change, buttons included); missing votes are added. Imported
        replies and their votes are refreshed from the newer export.
        """
        new_replies = new_votes = 0
        live: set[tuple[str, str]] = set()
        with self._lock, self.db.atomic():
            for reply in replies:
                found = self.db.execute(
                    "SELECT origin FROM replies WHERE channel = ? AND ts = ?",
                    [reply.channel, reply.ts],
                ).fetchone()
                if found is None or found[0] != "live":
                    new_replies += found is None
                    self.save_reply(reply)
                else:
                    live.add((reply.channel, reply.ts))
            for vote in votes:
                found = self.db.execute(
                    "SELECT value, source FROM votes WHERE channel = ? AND ts = ? AND user = ?",
                    [vote.channel, vote.ts, vote.user],
                ).fetchone()
                changed = found is not None and tuple(found) != (vote.value, vote.source)
                if found is None or (changed and (vote.channel, vote.ts) not in live):
                    new_votes += found is None
                    self.table("votes").upsert(_row(vote), pk=("channel", "ts", "user"))
        return new_replies, new_votes


def _address(channel: str | None, ts: str | None) -> tuple[str | None, list[str]]:
    if channel is None or ts is None:
        return None, []
    return "channel = ? AND ts = ?", [channel, ts]


def _row(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _reply(row: dict[str, Any]) -> Reply:
    turns = tuple(ChatTurn(**t) for t in json.loads(row.pop("context") or "[]"))
    return Reply(context=turns, **row)
