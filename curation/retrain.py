"""The retrain flow that the bot and the CLI both call: ratings → dataset version →
training run → evaluation gate → promotion or hold, with cancel and rollback.

It knows nothing of Slack. Every step reads where the run stands from the
database and moves it on with a compare-and-set, so `advance()` is safe to call
from a timer, again after a crash, or from two places at once: nothing is
submitted or promoted twice.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from curation.dataset.build import Runner, build_dataset, run_here
from curation.dataset.pipeline import CurationConfig, Progress
from curation.endpoints import Endpoints
from curation.errors import CurationError, LifecycleError
from curation.evaluation.gate import Contender, Gate, GateConfig, GateResult
from curation.evaluation.stats import summarize
from curation.promotion import Promotion
from curation.redact import redact
from curation.run_updates import LifecycleStatus, RetrainPreview, RunUpdate
from curation.training.backend import (
    Backend,
    JobProgress,
    TrainingRefusedError,
    TrainingUnavailableError,
)
from storage import (
    IN_FLIGHT,
    DatasetVersion,
    Deployment,
    Store,
    TrainingRun,
    dataset_version,
)

log = logging.getLogger(__name__)

# Polling backs off on errors up to this long between tries.
MAX_BACKOFF = timedelta(minutes=15)
RECENT_EVENTS = 8


class RetrainRunningError(Exception):
    """A dataset build is already running; one at a time keeps versions coherent."""


@dataclass(frozen=True)
class LifecycleConfig:
    """Everything the flow needs, as values (the bot fills it from its settings)."""

    curation: CurationConfig
    dataset_dir: Path
    gate: GateConfig
    job_timeout_hours: float = 24.0
    poll_seconds: float = 30.0
    min_new_examples: int = 50


class Lifecycle:
    def __init__(
        self,
        store: Store,
        config: LifecycleConfig,
        backend: Backend,
        endpoints: Endpoints,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        writes: Runner = run_here,
    ) -> None:
        """`writes` runs the database writes of each dataset build (see Runner)."""
        self.store = store
        self.config = config
        self.backend = backend
        self.gate = Gate(store, endpoints, config.gate)
        self.promotion = Promotion(store, backend.serving)
        self.clock = clock
        self.writes = writes
        self._building = threading.Lock()
        self._advancing = threading.Lock()
        # Backoff after provider errors; in memory, so a restart polls at once.
        self._retry_at: datetime | None = None
        self._failures = 0

    # -- building and starting ---------------------------------------------------

    def preview(self, progress: Progress | None = None) -> RetrainPreview:
        """Build (or reuse, when nothing changed) the dataset version, and say
        what training it would cost."""
        if not self._building.acquire(blocking=False):
            raise RetrainRunningError
        try:
            build = build_dataset(
                self.store,
                self.config.curation,
                self.config.dataset_dir,
                progress=progress,
                writes=self.writes,
            )
        finally:
            self._building.release()
        curated = build.curated
        estimate = self.backend.trainer.estimate(curated.train_tokens, curated.estimate.epochs)
        live = self.store.live_deployment()
        warnings = [*curated.warnings(), *self._backend_warnings(live)]
        return RetrainPreview(build, self.backend.name, curated.model.name, estimate, warnings)

    def start(self, dataset_id: str, requested_by: str) -> TrainingRun:
        """Record a run on a dataset version; `advance()` submits it. Raises
        storage.RunInFlightError when one is in flight (the database decides)."""
        dataset = dataset_version(self.store, dataset_id)
        if dataset is None:
            raise LifecycleError(
                f"there is no dataset version {dataset_id}; run /retrain again to build one"
            )
        run = self.store.create_run(self.backend.name, dataset.base_model, dataset.id, requested_by)
        self._retry_at, self._failures = None, 0
        log.info("run #%d on dataset %s started by %s", run.id, dataset.id, requested_by)
        return run

    # -- moving a run on -------------------------------------------------------------

    def advance(self) -> list[RunUpdate]:
        """Move the run in flight one step: submit it, poll it, or judge and
        promote or hold it. Returns what people should hear."""
        if not self._advancing.acquire(blocking=False):
            return []  # another thread is advancing it right now
        try:
            run = self.store.run_in_flight()
            if run is None:
                return []
            if self._retry_at is not None and self.clock() < self._retry_at:
                return []
            # Claim this step: a second process that read the same row stops here.
            claimed = self.store.update_run(run.id, unchanged_since=run.updated_at)
            if claimed is None:
                return []
            return self._step(claimed)
        finally:
            self._advancing.release()

    def _step(self, run: TrainingRun) -> list[RunUpdate]:
        if self._timed_out(run):
            hours = self.config.job_timeout_hours
            self._cancel_at_provider(run)
            return self._fail(
                run,
                f"the run was still unfinished after {hours:g} hours "
                "(VOICELOOP_JOB_TIMEOUT_HOURS), so it was cancelled",
            )
        try:
            if run.status == "preparing":
                return self._submit(run)
            if run.status in ("submitted", "running"):
                return self._poll(run)
            return self._evaluate(run)
        except (TrainingRefusedError, CurationError) as e:
            # CurationError: the dataset's files are gone or unreadable; no
            # retry brings them back.
            return self._fail(run, str(e))
        except TrainingUnavailableError as e:
            if run.status == "preparing":
                # Nothing reached the provider's queue yet: say so now rather
                # than retry an upload for hours.
                return self._fail(run, f"{e}; nothing was trained, try again later")
            return self._back_off(run, str(e))

    def _submit(self, run: TrainingRun) -> list[RunUpdate]:
        dataset = self._dataset(run)
        submitted = self.backend.trainer.submit(run, dataset)
        self._record(run, submitted.events)
        moved = self.store.update_run(
            run.id,
            expect=("preparing",),
            job_id=submitted.job_id,
            status="submitted",
        )
        if moved is None:
            # Cancelled while the files went up: the job must not train.
            self._cancel_at_provider(replace(run, job_id=submitted.job_id))
            return []
        self._failures = 0
        text = (
            f"Training run #{run.id} is submitted to {self.backend.name} "
            f"(job {submitted.job_id}) on dataset {dataset.id}: {_notes(submitted.events)}"
        )
        return [RunUpdate(moved, "progress", text.rstrip(": "))]

    def _poll(self, run: TrainingRun) -> list[RunUpdate]:
        status = self.backend.trainer.poll(run)
        self._retry_at, self._failures = None, 0
        new = self._record(run, status.events)
        if status.state == "failed":
            return self._fail(run, status.error or "the provider reported the job as failed")
        if status.state == "cancelled":
            cancelled = self.store.update_run(run.id, expect=IN_FLIGHT, status="cancelled")
            if cancelled is None:
                return []
            text = (
                f"Training run #{run.id} was cancelled at {self.backend.name}. "
                "The live model is unchanged."
            )
            return [RunUpdate(cancelled, "cancelled", text)]
        if status.state == "succeeded":
            done = self.store.update_run(
                run.id,
                expect=("submitted", "running"),
                status="evaluating",
                trained_model=status.trained_model,
                trained_tokens=status.trained_tokens,
                metrics={**run.metrics, **status.metrics},
            )
            if done is None:
                return []
            text = (
                f"Training run #{run.id} finished ({status.trained_model}); "
                "judging it against the live model now."
            )
            return [RunUpdate(done, "progress", text), *self._evaluate(done)]
        changes: dict[str, Any] = {}
        if status.metrics:
            changes["metrics"] = {**run.metrics, **status.metrics}
        if run.status == "submitted":
            changes["status"] = "running"
        moved = self.store.update_run(run.id, expect=(run.status,), **changes) if changes else run
        if moved is None or not new:
            return []
        text = f"Training run #{run.id} is {moved.status}: {new[-1].message}"
        return [RunUpdate(moved, "progress", text)]

    def _evaluate(self, run: TrainingRun) -> list[RunUpdate]:
        dataset = self._dataset(run)
        live = self.store.live_deployment()
        if live is None:
            raise LifecycleError("no deployment is live; start the bot once before training")
        base_url, model = self.backend.serving.load(run)
        candidate = Contender(base_url, model, self.store.prompt(dataset.prompt_id).content)
        incumbent = Contender(live.base_url, live.model, self.store.prompt(live.prompt_id).content)
        # Provider errors arrive as TrainingRefusedError (the run fails) or
        # TrainingUnavailableError (it backs off and resumes where it stopped).
        result = self.gate.run(
            run, dataset, candidate, incumbent, lambda done, total: self._judged(run, done, total)
        )
        return self._decide(run, result, live, base_url, model)

    def _judged(self, run: TrainingRun, done: int, total: int) -> None:
        # Every tenth prompt and the last: enough for App Home to show the gate moving.
        if done % 10 == 0 or done == total:
            data: dict[str, object] = {"judged": done, "prompts": total}
            self.store.add_run_event(
                run.id, "progress", f"judged {done} of {total} prompts", data, f"judged:{done}"
            )

    def _decide(
        self,
        run: TrainingRun,
        result: GateResult,
        live: Deployment,
        base_url: str | None,
        model: str,
    ) -> list[RunUpdate]:
        s = result.summary
        figures: dict[str, Any] = {
            "win_rate": s.win_rate,
            "win_rate_low": s.win_rate_low,
            "win_rate_high": s.win_rate_high,
            "flip_rate": s.flip_rate,
            "length_ratio": s.length_ratio,
            "rule_pass_candidate": s.rule_pass_candidate,
            "rule_pass_live": s.rule_pass_live,
            "decision": result.decision,
        }
        caveats = " ".join(f"Note: {w}." for w in s.warnings())
        if not result.promote:
            held = self.store.update_run(
                run.id, expect=("evaluating",), status="held", serve_base_url=base_url, **figures
            )
            if held is None:
                return []
            text = (
                f"Training run #{run.id} is held, not promoted: {s.describe()}. It needed a win "
                f"rate of at least {self.config.gate.min_win_rate:.0%} and no more broken style "
                f"rules than the live model. An admin can still promote it anyway. {caveats}"
            )
            return [RunUpdate(held, "held", text.strip())]
        if self.store.update_run(run.id, expect=("evaluating",), **figures) is None:
            return []
        deployment = self.promotion.promote(
            run, base_url, model, f"promoted by the gate: {s.describe()}"
        )
        if deployment is None:
            return []
        promoted = self.store.run(run.id)
        assert promoted is not None
        tokens = self.promotion.prompt_tokens(deployment)
        text = (
            f"Training run #{run.id} is live: {model} now answers with the short prompt. "
            f"The gate found a {s.describe()}. "
            + (f"{tokens.describe()}. " if tokens else "")
            + f"Replaced {live.model}; /retrain rollback brings it back. {caveats}"
        )
        return [RunUpdate(promoted, "promoted", text.strip())]

    # -- people's requests -----------------------------------------------------------

    def cancel(self, run_id: int, by: str) -> TrainingRun:
        run = self.store.run(run_id)
        if run is None or not run.in_flight:
            raise LifecycleError(f"run #{run_id} is not in flight, so there is nothing to cancel")
        self._cancel_at_provider(run)
        cancelled = self.store.update_run(
            run.id, expect=IN_FLIGHT, status="cancelled", event=("status", f"cancelled by {by}")
        )
        if cancelled is None:
            raise LifecycleError(f"run #{run_id} finished before it could be cancelled")
        return cancelled

    def promote_anyway(self, run_id: int, by: str) -> Deployment:
        """Promote a run the gate held, on an admin's word."""
        run = self.store.run(run_id)
        if run is None or run.status != "held":
            status = run.status if run else "unknown"
            raise LifecycleError(f"run #{run_id} is {status}; only a held run can be promoted")
        base_url, model = self.backend.serving.load(run)
        deployment = self.promotion.promote(run, base_url, model, f"promoted anyway by {by}")
        if deployment is None:
            raise LifecycleError(f"run #{run_id} was promoted or changed meanwhile")
        return deployment

    def rollback(self, by: str) -> Deployment:
        """Append a row restoring the deployment live before this one."""
        return self.promotion.rollback(by)

    # -- what people see -----------------------------------------------------------

    def status(self) -> LifecycleStatus:
        live = self.store.live_deployment()
        runs = self.store.runs(limit=20)
        in_flight = next((r for r in runs if r.in_flight), None)
        finished = [r for r in runs if not r.in_flight]
        judged = next((r for r in runs if r.decision is not None), None)
        since = runs[0].created_at if runs else ""
        votes, corrections = self.store.ratings_since(since)
        newest = self.store.newest_dataset()
        kept = None
        if newest is not None:
            kept = self.store.replies_beyond(newest[0], runs[0].dataset_id if runs else None)
        return LifecycleStatus(
            backend=self.backend.name,
            live=live,
            history=self.store.deployments(limit=10),
            in_flight=in_flight,
            events=self.store.run_events(in_flight.id, RECENT_EVENTS) if in_flight else [],
            last_run=finished[0] if finished else None,
            last_evaluation=summarize(self.store.evaluations(judged.id)) if judged else None,
            votes_since_last_run=votes,
            corrections_since_last_run=corrections,
            prompt_tokens=self.promotion.prompt_tokens(live) if live else None,
            warnings=self._backend_warnings(live),
            kept_since_last_run=kept,
            kept_counted_at=newest[1] if newest else None,
        )

    def due(self) -> bool:
        """Whether enough new kept examples exist since the last trained
        dataset for the scheduler to start a run."""
        if self.store.run_in_flight() is not None:
            return False
        trained = next((r for r in self.store.runs(limit=50) if r.status != "cancelled"), None)
        since = trained.created_at if trained else ""
        votes, corrections = self.store.ratings_since(since)
        if votes + corrections < self.config.min_new_examples:
            return False  # cannot be enough: each kept example needs a rating
        build = build_dataset(
            self.store,
            self.config.curation,
            self.config.dataset_dir,
            dry_run=True,
            writes=self.writes,
        )
        kept = {e.key for e in build.curated.train} | {e.key for e in build.curated.validation}
        before = self.store.dataset_reply_keys(trained.dataset_id) if trained else set()
        return len(kept - before) >= self.config.min_new_examples

    # -- helpers ---------------------------------------------------------------------

    def _dataset(self, run: TrainingRun) -> DatasetVersion:
        dataset = dataset_version(self.store, run.dataset_id)
        if dataset is None:
            raise TrainingRefusedError(f"dataset version {run.dataset_id} is no longer recorded")
        return dataset

    def _record(self, run: TrainingRun, events: list[JobProgress]) -> list[JobProgress]:
        """Store events not seen before; returns those."""
        return [
            e
            for e in events
            if self.store.add_run_event(run.id, e.kind, redact(e.message), e.data, e.ref)
        ]

    def _fail(self, run: TrainingRun, message: str) -> list[RunUpdate]:
        message = redact(message)
        failed = self.store.update_run(
            run.id, expect=IN_FLIGHT, status="failed", error=message, event=("status", "failed")
        )
        if failed is None:
            return []
        log.warning("run #%d failed: %s", run.id, message)
        self._retry_at, self._failures = None, 0
        text = f"Training run #{run.id} failed: {message.rstrip('.')}. The live model is unchanged."
        return [RunUpdate(failed, "failed", text)]

    def _back_off(self, run: TrainingRun, message: str) -> list[RunUpdate]:
        message = redact(message)
        self._failures += 1
        delay = min(timedelta(seconds=self.config.poll_seconds * 2**self._failures), MAX_BACKOFF)
        self._retry_at = self.clock() + delay
        note = f"{message}; trying again in {delay.total_seconds():.0f} s"
        self.store.add_run_event(run.id, "log", note, {"failures": self._failures})
        if self._failures > 1:
            return []  # said once per streak
        return [RunUpdate(run, "progress", f"Training run #{run.id}: {note}.")]

    def _timed_out(self, run: TrainingRun) -> bool:
        started = datetime.fromisoformat(run.created_at)
        return self.clock() - started > timedelta(hours=self.config.job_timeout_hours)

    def _cancel_at_provider(self, run: TrainingRun) -> None:
        if not run.job_id:
            return
        try:
            self.backend.trainer.cancel(run)
        except (TrainingRefusedError, TrainingUnavailableError) as e:
            self.store.add_run_event(run.id, "log", redact(f"could not cancel the job: {e}"))

    def _backend_warnings(self, live: Deployment | None) -> list[str]:
        try:
            return self.backend.trainer.warnings(live.model if live else None)
        except TrainingUnavailableError as e:
            return [redact(f"could not check {self.backend.name} for warnings: {e}")]


def _notes(events: list[JobProgress]) -> str:
    return "; ".join(e.message for e in events if e.kind != "status")
