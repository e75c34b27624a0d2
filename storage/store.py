"""The Store: one SQLite database, migrated on open, with typed reads and writes."""

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlite_utils import Database
from sqlite_utils.db import NotFoundError, Table

from storage.checkpoints import WalCheckpointer
from storage.clock import now as now
from storage.deployments import DeploymentTables
from storage.imported_channels import ImportedChannelTables, record_imported_channels
from storage.migrations import migrations
from storage.records import (
    Arrival,
    ChatTurn,
    Claim,
    Correction,
    Deployment,
    ImportedChannel,
    Prompt,
    PromptKind,
    Reply,
    Vote,
)
from storage.runs import RunTables
from storage.vote_events import VoteEvent, replay

log = logging.getLogger(__name__)

# How long one statement waits for another process's write lock (SQLite's busy
# timeout), and how many more times a write that must not be lost tries again
# after that: `voiceloop curate` and the trainer write beside the bot.
BUSY_TIMEOUT_SECONDS = 10.0
WRITE_ATTEMPTS = 4


Rated = TypeVar("Rated")
Record = TypeVar("Record")


def slack_now() -> str:
    """Now as a Slack timestamp, for verdicts Slack does not time (a modal submission)."""
    micros = time.time_ns() // 1000
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def prompt_id_for(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


class StorageError(Exception):
    """The database could not be opened or migrated."""


class Store(RunTables, DeploymentTables, ImportedChannelTables):
    """Typed access to the voiceloop database.

    One connection guarded by a lock: Bolt runs listeners on a thread pool, and
    a small team's write rate is far below what one SQLite connection serves.
    Other processes (the CLI, the trainer) open their own Store on the same
    file: WAL lets readers and the one writer work side by side, and every
    write transaction takes the write lock up front (BEGIN IMMEDIATE), waits
    for it, and tries again rather than fail with "database is locked".
    """

    def __init__(
        self,
        path: str | Path,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
        *,
        pause_long_writes: bool = False,
    ) -> None:
        """`pause_long_writes`: a long write (a dataset's provenance) leaves a
        gap after each of its short transactions, for a bot that shares the
        file and writes each vote before its ack. The bot's dry runs set it;
        elsewhere the gaps would only slow the write down."""
        self.path = str(path)
        self.busy_timeout = busy_timeout
        self.pause_long_writes = pause_long_writes
        try:
            # Autocommit: transactions start only where this class says BEGIN
            # IMMEDIATE, never as an implicit deferred BEGIN that fails when it
            # later needs the write lock.
            conn = sqlite3.connect(
                self.path, check_same_thread=False, timeout=busy_timeout, isolation_level=None
            )
        except sqlite3.Error as e:
            raise StorageError(f"cannot open database {self.path}: {e}") from e
        self.db = Database(conn)
        self._lock = threading.RLock()
        # The thread whose transaction() is open on the write connection, if any.
        self._transaction_thread: int | None = None
        # One read connection per thread that reads (the pools bound how many).
        self._readers = threading.local()
        self._reader_connections: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        try:
            if self.path != ":memory:":
                # WAL lets `voiceloop curate` read while the bot writes.
                self.db.enable_wal()
                # In WAL mode NORMAL syncs at checkpoints, not at every commit:
                # a commit still survives the process being killed (what the
                # claim-before-ack relies on), and only an OS crash or power
                # loss can drop the last few. A full sync per ack cost ~7 ms.
                self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            with self._lock:
                _retry_busy(lambda: migrations.apply(self.db), self.path)
        except sqlite3.DatabaseError as e:
            raise StorageError(f"{self.path} is not a usable voiceloop database: {e}") from e

    def close(self) -> None:
        # Under the lock, so a write still running on another thread finishes first.
        with self._lock, self._readers_lock:
            self.db.close()
            for conn in self._reader_connections:
                conn.close()

    def start_background_checkpoints(self, every: float = 1.0) -> WalCheckpointer | None:
        """Checkpoints on a thread from now on instead of in whichever commit
        fills the log (storage/checkpoints.py); None for an in-memory database."""
        if self.path == ":memory:":
            return None
        with self._lock:
            self.db.execute("PRAGMA wal_autocheckpoint = 0")
        checkpointer = WalCheckpointer(self.path, every)
        checkpointer.start()
        return checkpointer

    def table(self, name: str) -> Table:
        return self.db.table(name)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One atomic unit of work: listeners write from a thread pool, so the
        lock keeps their statements apart; BEGIN IMMEDIATE takes the file's
        write lock before the first read, so no other process can make this
        transaction fail halfway. A nested call is a savepoint."""
        with self._lock:
            if self.db.conn.in_transaction:
                with self.db.atomic():
                    yield self.db
                return
            _retry_busy(lambda: self.db.execute("BEGIN IMMEDIATE"), self.path)
            self._transaction_thread = threading.get_ident()
            try:
                yield self.db
                self.db.execute("COMMIT")
            except BaseException:
                self.db.conn.rollback()
                raise
            finally:
                self._transaction_thread = None

    def _write(
        self, sql: str, params: Sequence[Any], *, returning: bool = False
    ) -> list[dict[str, Any]]:
        """One write statement, atomic by itself (autocommit), or part of the
        transaction this thread has open; what it RETURNING-s, as dicts."""
        with self._lock:

            def run() -> list[dict[str, Any]]:
                cursor = self.db.conn.execute(sql, params)
                if not returning:
                    return []
                # Fetched to the end: the statement, and its write lock, end here.
                rows = cursor.fetchall()
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in rows]

            if self.db.conn.in_transaction:
                return run()
            return list(_retry_busy(run, self.path))

    @contextmanager
    def reading(self) -> Iterator[Database]:
        """A connection for reads. Outside a transaction, reads of a file
        database go to a connection of the calling thread's own, so a long
        read (curation in /retrain) holds up neither the bot's writes nor its
        other reads: WAL gives each a snapshot. Inside a transaction they use
        its connection and see its writes; another thread's transaction is no
        reason to wait."""
        if self.path == ":memory:" or self._transaction_thread == threading.get_ident():
            with self._lock:
                yield self.db
            return
        reader: Database | None = getattr(self._readers, "db", None)
        if reader is None:
            conn = sqlite3.connect(
                self.path, check_same_thread=False, timeout=self.busy_timeout, isolation_level=None
            )
            conn.execute("PRAGMA query_only = ON")
            reader = self._readers.db = Database(conn)
            with self._readers_lock:  # not the write lock: a write may be under way
                self._reader_connections.append(conn)
        yield reader

    # -- claims: a message is answered once ------------------------------------

    def prune_events(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Forget answered claims (and delivery keys from before claims) that
        Slack can no longer retry (it gives up within minutes), so the tables
        stay small on a long-running bot."""
        cutoff = (datetime.now(UTC) - older_than).isoformat(timespec="milliseconds")
        with self.transaction() as db:
            pruned = db.execute("DELETE FROM events WHERE received_at < ?", [cutoff]).rowcount
            pruned += db.execute(
                "DELETE FROM claims WHERE state = 'answered' AND answered_at < ?", [cutoff]
            ).rowcount
        return pruned

    def claim_message(
        self,
        channel: str,
        ts: str,
        *,
        worker: str,
        user: str = "",
        text: str = "",
        thread_ts: str | None = None,
        expires_after: timedelta,
    ) -> Claim | None:
        """The claim on this message for `worker`, or None when it is answered
        or someone else holds a claim younger than `expires_after`.

        A released claim (its work failed) or an expired one (its worker died
        or hung) is taken over, placeholder and all, so the redo edits the same
        "Thinking…" message instead of posting a second one.
        """
        # One statement, atomic on its own: the claim is written before the
        # ack, so every round trip to SQLite here is time Slack waits. SQLite
        # makes the timestamps too, in the format of storage.clock.now: formatted
        # in Python they cost a fifth of the claim when acks come spaced out.
        after = f"{-expires_after.total_seconds():+} seconds"
        rows = self._write(
            _CLAIM, [channel, ts, thread_ts, user, text, worker, after], returning=True
        )
        return Claim(**rows[0]) if rows else None

    def add_released_claims(self, arrivals: Iterable[Arrival]) -> int:
        """Claims, released so the next recovery answers them, for arrivals
        that have none yet; returns how many were added. A message claimed or
        answered already is left alone."""
        with self.transaction() as db:
            return sum(
                db.execute(
                    """
                    INSERT INTO claims (channel, ts, thread_ts, user, text, state,
                        claimed_by, claimed_at, attempts)
                    VALUES (?, ?, ?, ?, ?, 'released', '', ?, 0)
                    ON CONFLICT (channel, ts) DO NOTHING
                    """,
                    [a.channel, a.ts, a.thread_ts, a.user, a.text, now()],
                ).rowcount
                for a in arrivals
            )

    def claim(self, channel: str, ts: str) -> Claim | None:
        with self.reading() as db:
            try:
                return Claim(**db.table("claims").get((channel, ts)))
            except NotFoundError:
                return None

    def _claim(self, channel: str, ts: str) -> Claim | None:
        try:
            return Claim(**self.table("claims").get((channel, ts)))
        except NotFoundError:
            return None

    def take_over_claim(self, claim: Claim, worker: str) -> Claim | None:
        """`worker` takes an unanswered claim as it was read, unless someone
        changed it since (start-up recovery racing a redelivery)."""
        with self.transaction() as db:
            cursor = db.execute(
                """
                UPDATE claims SET state = 'claimed', claimed_by = ?, claimed_at = ?,
                    attempts = attempts + 1
                WHERE channel = ? AND ts = ? AND state != 'answered'
                    AND claimed_by = ? AND claimed_at = ?
                """,
                [worker, now(), claim.channel, claim.ts, claim.claimed_by, claim.claimed_at],
            )
            return self._claim(claim.channel, claim.ts) if cursor.rowcount == 1 else None

    def unanswered_claims(self, *, not_by: str, stale_after: timedelta) -> list[Claim]:
        """What a crash or a failure left to redo: released claims, claims held
        by another process (one bot serves a database, so at start-up that one
        is gone), and claims held longer than `stale_after`; oldest first."""
        stale = (datetime.now(UTC) - stale_after).isoformat(timespec="milliseconds")
        with self.reading() as db:
            rows = db.table("claims").rows_where(
                "state = 'released'"
                " OR (state = 'claimed' AND (claimed_by != ? OR claimed_at <= ?))",
                [not_by, stale],
                order_by="claimed_at",
            )
            return [Claim(**row) for row in rows]

    def placeholders_in(self, channel: str, thread_ts: str) -> set[str]:
        """The "Thinking…" messages claims in this thread already own."""
        with self.reading() as db:
            rows = db.execute(
                "SELECT placeholder_ts FROM claims WHERE channel = ? AND placeholder_ts IS NOT NULL"
                " AND (ts = ? OR thread_ts = ?)",
                [channel, thread_ts, thread_ts],
            ).fetchall()
        return {row[0] for row in rows}

    def set_placeholder(self, channel: str, ts: str, placeholder_ts: str) -> None:
        """Remember the "Thinking…" message as soon as it is posted, so redone
        work edits it rather than leaving it behind."""
        self._write(
            "UPDATE claims SET placeholder_ts = ? WHERE channel = ? AND ts = ?",
            [placeholder_ts, channel, ts],
        )

    def release_claim(self, channel: str, ts: str, worker: str) -> None:
        """The work failed: a retry, a redelivery or a restart may redo it."""
        with self.transaction() as db:
            db.execute(
                "UPDATE claims SET state = 'released' "
                "WHERE channel = ? AND ts = ? AND claimed_by = ? AND state = 'claimed'",
                [channel, ts, worker],
            )

    def mark_answered(self, channel: str, ts: str, reply_ts: str, reply: Reply | None) -> None:
        """Done: the answer is posted; `reply` (None for an apology) is stored
        in the same transaction, so "answered" always means "stored"."""
        with self.transaction() as db:
            if reply is not None:
                self.save_reply(reply)
            db.execute(
                "UPDATE claims SET state = 'answered', reply_ts = ?, answered_at = ? "
                "WHERE channel = ? AND ts = ?",
                [reply_ts, now(), channel, ts],
            )

    # -- prompts and deployments ---------------------------------------------

    def ensure_prompt(self, content: str, kind: PromptKind) -> Prompt:
        prompt = Prompt(id=prompt_id_for(content), kind=kind, content=content, created_at=now())
        with self.transaction():
            self.table("prompts").insert(_row(prompt), ignore=True)
        return self.prompt(prompt.id)

    def prompt(self, prompt_id: str) -> Prompt:
        with self.reading() as db:
            return Prompt(**db.table("prompts").get(prompt_id))

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
        with self.transaction():
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

    def live_deployment(self) -> Deployment | None:
        with self.reading() as db:
            rows = list(db.table("deployments").rows_where(order_by="id desc", limit=1))
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
        # One prepared statement: a reply is saved while acks wait for the lock.
        self._write(_UPSERT_REPLY, _reply_row(reply))

    def reply(self, channel: str, ts: str) -> Reply | None:
        with self.reading() as db:
            row = db.execute(f"{_SELECT_REPLIES} WHERE channel = ? AND ts = ?", [channel, ts])
            row = row.fetchone()
        return None if row is None else _reply(row)

    def replies(self, where: str | None = None, params: list[Any] | None = None) -> Iterator[Reply]:
        sql = f"{_SELECT_REPLIES} WHERE {where}" if where else _SELECT_REPLIES
        with self.reading() as db:
            rows = db.execute(f"{sql} ORDER BY rowid", params or []).fetchall()
        for row in rows:
            yield _reply(row)

    def rated_replies(
        self, make: Callable[[Reply, tuple[Vote, ...], tuple[Correction, ...]], Rated]
    ) -> list[Rated]:
        """Every reply, oldest first, passed to `make` with its votes and corrections.

        Curation reads everything, so this is three table scans grouped in one
        pass rather than a query per reply, and `make` builds the caller's
        record straight from the rows: at 100,000 replies, every object made
        per row is a cost a plain scan does not pay.
        """
        # One snapshot for all three, even while the bot writes (WAL). Replies
        # are made as their rows arrive, with no list of rows kept beside them.
        with self.reading() as db, _snapshot(db):
            votes = _by_reply(db.execute(_SELECT_VOTES), Vote)
            corrections = _by_reply(db.execute(_SELECT_CORRECTIONS), Correction)
            none = ()
            return [
                make(_reply(row), votes.get(key := row[:2], none), corrections.get(key, none))
                for row in db.execute(f"{_SELECT_REPLIES} ORDER BY rowid")
            ]

    def bot_in_thread(self, channel: str, thread_ts: str) -> bool:
        """Whether the bot has replied in this thread (so follow-ups need no mention)."""
        with self.reading() as db:
            return (
                db.table("replies").count_where(
                    "channel = ? AND (thread_ts = ? OR ts = ?)", [channel, thread_ts, thread_ts]
                )
                > 0
            )

    # -- votes and corrections ---------------------------------------------------

    def record_vote(
        self,
        channel: str,
        ts: str,
        user: str,
        value: int,
        source: str,
        *,
        event_ts: str | None = None,
    ) -> Vote | None:
        """Apply a +1/-1 verdict made at Slack's `event_ts` (unset: now);
        returns the vote that stands afterwards."""
        if value not in (1, -1):
            raise ValueError(f"a vote is +1 or -1, not {value}")
        verdict = VoteEvent(source, value, event_ts or slack_now())
        return self.apply_verdict(channel, ts, user, verdict)

    def remove_vote(
        self, channel: str, ts: str, user: str, source: str, *, event_ts: str | None = None
    ) -> bool:
        """Remove the user's vote if it came from `source` (a later vote from
        another reaction or button stays: the latest verdict wins); True when
        no vote stands afterwards."""
        verdict = VoteEvent(source, None, event_ts or slack_now())
        return self.apply_verdict(channel, ts, user, verdict) is None

    def apply_verdict(self, channel: str, ts: str, user: str, verdict: VoteEvent) -> Vote | None:
        """Log the verdict and set the person's vote to the whole log replayed in
        event order, so concurrent or shuffled deliveries (and Slack's
        duplicates) end in the same vote."""
        with self.transaction() as db:
            logged = [
                VoteEvent(r["source"], r["value"], r["event_ts"])
                for r in self.table("vote_events").rows_where(
                    "channel = ? AND ts = ? AND user = ?", [channel, ts, user]
                )
            ]
            if not logged:
                # A vote from before the log (or an import) counts as the oldest verdict.
                for row in self.table("votes").rows_where(
                    "channel = ? AND ts = ? AND user = ?", [channel, ts, user]
                ):
                    logged.append(VoteEvent(row["source"], row["value"], row["event_ts"] or "0"))
            self.table("vote_events").insert(
                {
                    "channel": channel,
                    "ts": ts,
                    "user": user,
                    "source": verdict.source,
                    "value": verdict.value,
                    "event_ts": verdict.event_ts,
                    "received_at": now(),
                },
                ignore=True,
            )
            standing = replay([*logged, verdict])
            if standing is None:
                db.execute(
                    "DELETE FROM votes WHERE channel = ? AND ts = ? AND user = ?",
                    [channel, ts, user],
                )
                return None
            assert standing.value is not None
            vote = Vote(channel, ts, user, standing.value, standing.source, now())
            self.table("votes").upsert(
                {**_row(vote), "event_ts": standing.event_ts}, pk=("channel", "ts", "user")
            )
            return vote

    def forget_voter(self, channel: str, ts: str, user: str) -> None:
        """Drop everything `user` said about this reply (their reactions turned
        out not to be ratings: the user is a bot)."""
        with self.transaction() as db:
            for table in ("vote_events", "votes"):
                db.execute(
                    f"DELETE FROM {table} WHERE channel = ? AND ts = ? AND user = ?",  # noqa: S608
                    [channel, ts, user],
                )

    def votes(self, channel: str | None = None, ts: str | None = None) -> list[Vote]:
        where, params = _address(channel, ts)
        with self.reading() as db:
            return [Vote(*row) for row in db.execute(f"{_SELECT_VOTES}{where}", params)]

    def save_correction(self, channel: str, ts: str, user: str, text: str) -> Correction:
        correction = Correction(channel, ts, user, text, now())
        with self.transaction():
            self.table("corrections").upsert(_row(correction), pk=("channel", "ts", "user"))
        return correction

    def corrections(self, channel: str | None = None, ts: str | None = None) -> list[Correction]:
        where, params = _address(channel, ts)
        with self.reading() as db:
            rows = db.execute(f"{_SELECT_CORRECTIONS}{where}", params)
            return [Correction(*row) for row in rows]

    # -- history imported from a Slack export --------------------------------------

    def import_history(
        self,
        replies: list[Reply],
        votes: list[Vote],
        channels: Sequence[ImportedChannel] = (),
    ) -> tuple[int, int]:
        """Write one import in one transaction; returns how many replies and votes were new.
        `channels` records what was read of each channel read whole, with its rows.

        A live reply is never overwritten (it knows the model and prompt the
        export does not), nor is a vote already recorded on one (the live bot
        saw every change, buttons included); missing votes are added. Imported
        replies and their votes are refreshed from the newer export, and only
        rows that changed are written, so importing the same export again
        writes nothing. What is stored is read in one query per table and the
        writes go in batches: an export holds hundreds of thousands of rows.
        """
        # The last of several rows with one key wins, as a row-by-row upsert would.
        reply_rows = {(r.channel, r.ts): _reply_row(r) for r in replies}
        vote_rows = {(v.channel, v.ts, v.user): _vote_row(v) for v in votes}
        with self.transaction() as db:
            live = set(db.execute("SELECT channel, ts FROM replies WHERE origin = 'live'"))
            stored_replies = {
                row[:2]: row for row in db.execute(f"{_SELECT_REPLIES} WHERE origin != 'live'")
            }
            stored_votes = {
                row[:3]: row[3:]
                for row in db.execute("SELECT channel, ts, user, value, source FROM votes")
            }
            new_replies = [
                row
                for key, row in reply_rows.items()
                if key not in live and key not in stored_replies
            ]
            changed_replies = [
                row
                for key, row in reply_rows.items()
                if (stored := stored_replies.get(key)) is not None and stored != row
            ]
            new_votes = [row for key, row in vote_rows.items() if key not in stored_votes]
            changed_votes = [
                row
                for key, row in vote_rows.items()
                if (stored := stored_votes.get(key)) is not None
                and stored != row[3:5]
                and key[:2] not in live
            ]
            db.conn.executemany(_INSERT_REPLY, new_replies)
            db.conn.executemany(_UPSERT_REPLY, changed_replies)
            db.conn.executemany(_INSERT_VOTE, new_votes)
            db.conn.executemany(_UPSERT_VOTE, changed_votes)
            record_imported_channels(db, channels)
        return len(new_replies), len(new_votes)


@contextmanager
def _snapshot(db: Database) -> Iterator[None]:
    """One read transaction, so every query inside sees the same state of the file."""
    if db.conn.in_transaction:
        yield
        return
    db.execute("BEGIN")
    try:
        yield
    finally:
        db.execute("COMMIT")


def _retry_busy(write: Any, path: str) -> Any:
    """Runs `write`, trying again while another process holds the write lock
    past the busy timeout; the last failure is raised as a StorageError."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            return write()
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            if attempt == WRITE_ATTEMPTS:
                raise StorageError(
                    f"{path} stayed locked by another process for too long; "
                    "try again when the other voiceloop command has finished"
                ) from e
            log.warning("%s is busy (%s); trying again", path, e)
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


def _address(channel: str | None, ts: str | None) -> tuple[str, list[str]]:
    if channel is None or ts is None:
        return "", []
    return " WHERE channel = ? AND ts = ?", [channel, ts]


def _row(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _columns(record: type[Any]) -> list[str]:
    return [f.name for f in fields(record)]


def _insert(table: str, record: type[Any]) -> str:
    names = _columns(record)
    placeholders = ", ".join("?" * len(names))
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})"  # noqa: S608


def _upsert(table: str, record: type[Any], key: tuple[str, ...]) -> str:
    updates = ", ".join(f"{name} = excluded.{name}" for name in _columns(record) if name not in key)
    return f"{_insert(table, record)} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"


# Each record's columns in the order of its fields, so a row is its arguments;
# the names come from the records, never from input.
_SELECT_REPLIES = f"SELECT {', '.join(_columns(Reply))} FROM replies"  # noqa: S608
_SELECT_VOTES = f"SELECT {', '.join(_columns(Vote))} FROM votes"  # noqa: S608
_SELECT_CORRECTIONS = f"SELECT {', '.join(_columns(Correction))} FROM corrections"  # noqa: S608
_CONTEXT = _columns(Reply).index("context")
_CREATED_AT = _columns(Reply).index("created_at")
_INSERT_REPLY = _insert("replies", Reply)
_UPSERT_REPLY = _upsert("replies", Reply, ("channel", "ts"))
_INSERT_VOTE = _insert("votes", Vote)
_UPSERT_VOTE = _upsert("votes", Vote, ("channel", "ts", "user"))


_reply_values = attrgetter(*_columns(Reply))
_vote_row: Callable[[Vote], tuple[Any, ...]] = attrgetter(*_columns(Vote))


def _reply_row(reply: Reply) -> tuple[Any, ...]:
    """The replies row for `reply`, in _SELECT_REPLIES order, as save_reply writes it."""
    values = list(_reply_values(reply))
    values[_CONTEXT] = _context_json(reply.context)
    values[_CREATED_AT] = reply.created_at or now()
    return tuple(values)


def _context_json(context: tuple[ChatTurn, ...]) -> str:
    if not context:
        return "[]"
    return json.dumps([{"role": t.role, "content": t.content} for t in context], ensure_ascii=False)


def _reply(row: tuple[Any, ...]) -> Reply:
    values = list(row)
    values[_CONTEXT] = _turns(row[_CONTEXT])
    return Reply(*values)


# storage.clock.now() as SQLite writes it ('%f' is seconds with milliseconds),
# and the same moment shifted by a modifier parameter ("-300.0 seconds").
_SQL_NOW = "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')"
_SQL_AGO = "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', ?)"
_CLAIM = f"""
    INSERT INTO claims
        (channel, ts, thread_ts, user, text, state, claimed_by, claimed_at, attempts)
    VALUES (?, ?, ?, ?, ?, 'claimed', ?, {_SQL_NOW}, 1)
    ON CONFLICT (channel, ts) DO UPDATE SET
        state = 'claimed', claimed_by = excluded.claimed_by,
        claimed_at = excluded.claimed_at, attempts = attempts + 1
    WHERE state = 'released' OR (state = 'claimed' AND claimed_at <= {_SQL_AGO})
    RETURNING *
"""  # noqa: S608 (constants only)


def _turns(context: str | None) -> tuple[ChatTurn, ...]:
    # Most replies start a thread: skip the parser for them.
    if not context or context == "[]":
        return ()
    return tuple([ChatTurn(turn["role"], turn["content"]) for turn in orjson.loads(context)])


def _by_reply(
    rows: Iterable[tuple[Any, ...]], make: Callable[..., Record]
) -> dict[tuple[str, str], tuple[Record, ...]]:
    """Rows that start with their reply's (channel, ts), as records grouped by reply."""
    # A reply has a vote or two: growing its tuple costs less than a list per
    # reply turned into a tuple afterwards.
    grouped: dict[tuple[str, str], tuple[Record, ...]] = {}
    found = grouped.get
    for row in rows:
        key = row[:2]
        grouped[key] = (*found(key, ()), make(*row))
    return grouped
