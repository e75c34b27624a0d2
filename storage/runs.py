"""Training runs, their event history and the gate's verdicts: typed reads and writes."""

import json
import sqlite3
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError

from storage.clock import now
from storage.records import (
    IN_FLIGHT,
    Evaluation,
    RunEvent,
    RunEventKind,
    TrainingRun,
    Verdict,
)

_JSON_COLUMNS = ("metrics",)


class RunInFlightError(Exception):
    """Another run is in flight; the database allows one at a time."""

    def __init__(self, run: TrainingRun | None) -> None:
        what = f"run #{run.id} is {run.status}" if run else "another run is in flight"
        super().__init__(f"{what}; wait for it to finish or cancel it first")
        self.run = run


class RunTables:
    """The Store's runs, run_events and evaluations (mixed into Store)."""

    db: Database
    # Store.transaction: BEGIN IMMEDIATE, waiting out other processes' writes.
    transaction: Callable[[], AbstractContextManager[Database]]
    # Store.reading: this thread's own read connection, so a read never waits for
    # a write of another thread (nor holds one up).
    reading: Callable[[], AbstractContextManager[Database]]

    # -- runs ------------------------------------------------------------------

    def create_run(
        self, backend: str, base_model: str, dataset_id: str, requested_by: str | None
    ) -> TrainingRun:
        """A new run in `preparing`; raises RunInFlight when one is in flight,
        which the database decides, so two starts at once make one run."""
        at = now()
        row = {
            "backend": backend,
            "base_model": base_model,
            "dataset_id": dataset_id,
            "status": "preparing",
            "requested_by": requested_by,
            "metrics": "{}",
            "created_at": at,
            "updated_at": at,
        }
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        try:
            with self.transaction():
                cursor = self.db.execute(
                    f"INSERT INTO runs ({columns}) VALUES ({marks})",  # noqa: S608 - fixed names
                    list(row.values()),
                )
                run_id = int(cursor.lastrowid or 0)
                self._event(run_id, "status", "preparing", {"by": requested_by})
        except sqlite3.IntegrityError as e:
            if "runs_one_in_flight" in str(e):
                raise RunInFlightError(self.run_in_flight()) from None
            raise
        found = self.run(run_id)
        assert found is not None
        return found

    def run(self, run_id: int) -> TrainingRun | None:
        with self.reading() as db:
            try:
                row = db.table("runs").get(run_id)
            except NotFoundError:
                return None
        return _run(row)

    def run_in_flight(self) -> TrainingRun | None:
        marks = ", ".join("?" for _ in IN_FLIGHT)
        with self.reading() as db:
            rows = list(db.table("runs").rows_where(f"status IN ({marks})", list(IN_FLIGHT)))
        return _run(rows[0]) if rows else None

    def runs(self, limit: int = 10) -> list[TrainingRun]:
        """The newest runs first."""
        with self.reading() as db:
            rows = list(db.table("runs").rows_where(order_by="id desc", limit=limit))
        return [_run(r) for r in rows]

    def update_run(
        self,
        run_id: int,
        *,
        expect: Collection[str] | None = None,
        unchanged_since: str | None = None,
        event: tuple[RunEventKind, str] | None = None,
        **changes: Any,
    ) -> TrainingRun | None:
        """Change a run; with `expect`, only while its status is one of those,
        with `unchanged_since`, only while its updated_at is still that (None
        when not: someone else moved it first). A status change records a
        status event, or `event` when given."""
        unknown = set(changes) - {f.name for f in fields(TrainingRun)}
        if unknown:
            raise ValueError(f"not a run column: {', '.join(sorted(unknown))}")
        row = {k: json.dumps(v) if k in _JSON_COLUMNS else v for k, v in changes.items()}
        where = "id = ?"
        params: list[object] = [run_id]
        if expect is not None:
            where += f" AND status IN ({', '.join('?' for _ in expect)})"
            params += list(expect)
        if unchanged_since is not None:
            where += " AND updated_at = ?"
            params.append(unchanged_since)
        with self.transaction():
            found = self.db.execute("SELECT updated_at FROM runs WHERE id = ?", [run_id]).fetchone()
            if found is None:
                return None
            # Strictly later than before, even within one millisecond, so
            # `unchanged_since` always tells one write from the next.
            row["updated_at"] = _later(now(), found[0])
            sets = ", ".join(f"[{k}] = ?" for k in row)
            cursor = self.db.execute(
                f"UPDATE runs SET {sets} WHERE {where}",  # noqa: S608 - column names checked above
                [*row.values(), *params],
            )
            if cursor.rowcount != 1:
                return None
            if event is not None:
                self._event(run_id, event[0], event[1], {})
            elif "status" in changes:
                self._event(run_id, "status", str(changes["status"]), {})
        return self.run(run_id)

    # -- run events --------------------------------------------------------------

    def add_run_event(
        self,
        run_id: int,
        kind: RunEventKind,
        message: str,
        data: dict[str, object] | None = None,
        ref: str | None = None,
    ) -> bool:
        """Record an event; False when the provider's event `ref` was recorded before."""
        with self.transaction():
            return self._event(run_id, kind, message, data or {}, ref)

    def _event(
        self,
        run_id: int,
        kind: RunEventKind,
        message: str,
        data: dict[str, object],
        ref: str | None = None,
    ) -> bool:
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO run_events (run_id, at, kind, message, data, ref) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [run_id, now(), kind, message, json.dumps(data, ensure_ascii=False), ref],
        )
        return cursor.rowcount == 1

    def run_events(self, run_id: int, limit: int | None = None) -> list[RunEvent]:
        """A run's events, oldest first (with `limit`, the newest that many)."""
        with self.reading() as db:
            rows = list(
                db.table("run_events").rows_where(
                    "run_id = ?", [run_id], order_by="id desc", limit=limit
                )
            )
        rows.reverse()
        return [RunEvent(**{**r, "data": json.loads(r["data"] or "{}")}) for r in rows]

    # -- evaluations ---------------------------------------------------------------

    def record_evaluation(self, evaluation: Evaluation) -> None:
        row = {f.name: getattr(evaluation, f.name) for f in fields(Evaluation)}
        for order in ("verdict_ab", "verdict_ba"):
            verdict: Verdict = row[order]
            row[order] = json.dumps({"winner": verdict.winner, "reason": verdict.reason})
        row["candidate_rules_ok"] = int(evaluation.candidate_rules_ok)
        row["live_rules_ok"] = int(evaluation.live_rules_ok)
        row["created_at"] = evaluation.created_at or now()
        with self.transaction():
            self.db.table("evaluations").upsert(row, pk=("run_id", "prompt_key"))

    def evaluations(self, run_id: int) -> list[Evaluation]:
        with self.reading() as db:
            rows = list(db.table("evaluations").rows_where("run_id = ?", [run_id]))
        return [_evaluation(r) for r in rows]


def _later(stamp: str, previous: str) -> str:
    if stamp > previous:
        return stamp
    after = datetime.fromisoformat(previous) + timedelta(milliseconds=1)
    return after.isoformat(timespec="milliseconds")


def _run(row: dict[str, Any]) -> TrainingRun:
    row["metrics"] = json.loads(row["metrics"] or "{}")
    return TrainingRun(**row)


def _evaluation(row: dict[str, Any]) -> Evaluation:
    for order in ("verdict_ab", "verdict_ba"):
        row[order] = Verdict(**json.loads(row[order]))
    row["candidate_rules_ok"] = bool(row["candidate_rules_ok"])
    row["live_rules_ok"] = bool(row["live_rules_ok"])
    return Evaluation(**row)
