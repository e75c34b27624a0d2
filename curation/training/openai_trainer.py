"""The OpenAI backend: moderation pre-screen, file uploads and fine-tuning jobs.

OpenAI takes no new fine-tuning jobs after 2027-01-06 and already refuses most
organisations; that is an expected answer here, never a crash, and never
decided by the calendar: the provider's answer decides, dates only warn.
"""

import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import openai
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.job_create_params import Method

from curation.dataset.base_models import base_model_facts
from curation.dataset.files import DPO_TRAIN, DPO_VALIDATION, TRAIN, VALIDATION
from curation.provider_errors import classified as _classified
from curation.training.backend import (
    JobProgress,
    JobStatus,
    ProgressKind,
    Submitted,
    TrainingRefusedError,
)
from curation.training.config import OpenAITrainerConfig
from storage import DatasetVersion, TrainingRun

MODERATION_BATCH = 32
# Dates OpenAI announced; shown as warnings only (dates move).
NO_NEW_JOBS_AFTER = date(2027, 1, 6)
FAMILY_SHUTDOWN = date(2027, 1, 14)
SHUTDOWN_FAMILIES = ("gpt-4o", "gpt-4.1")
WARNINGS_TTL_SECONDS = 3600
_RUNNING = ("validating_files", "queued", "running")


class OpenAITrainer:
    name = "openai"

    def __init__(
        self,
        client: openai.OpenAI,
        config: OpenAITrainerConfig,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.client = client
        self.config = config
        self.today = today
        self._warnings: tuple[float, str | None, list[str]] | None = None

    # -- submitting ----------------------------------------------------------------

    def submit(self, run: TrainingRun, dataset: DatasetVersion) -> Submitted:
        earlier = self._job_of(run)
        if earlier is not None:
            # Created before a crash, never recorded: adopt it, do not train twice.
            note = JobProgress("log", f"found job {earlier.id}, created before a restart")
            return Submitted(earlier.id, [note])
        dpo = (
            dataset.preference_pairs >= self.config.dpo_min_pairs
            and (Path(dataset.path) / DPO_TRAIN).exists()
        )
        names = (DPO_TRAIN, DPO_VALIDATION) if dpo else (TRAIN, VALIDATION)
        files = {name: _read(Path(dataset.path) / name) for name in names}
        if files[names[0]] is None:
            raise TrainingRefusedError(
                f"dataset version {dataset.id} has no {names[0]} to train on"
            )
        screened, flagged = self._moderate({n: f for n, f in files.items() if f is not None})
        events = [_moderation_note(flagged, sum(len(f or []) for f in files.values()))]
        if not screened.get(names[0]):
            raise TrainingRefusedError(
                "moderation flagged every training example; nothing to train on"
            )
        train_id = self._upload(names[0], screened[names[0]])
        validation_id = (
            self._upload(names[1], screened[names[1]]) if screened.get(names[1]) else None
        )
        uploaded = f"uploaded {names[0]} as {train_id}"
        events.append(
            JobProgress(
                "log", uploaded + (f", {names[1]} as {validation_id}" if validation_id else "")
            )
        )
        kind: Literal["dpo", "supervised"] = "dpo" if dpo else "supervised"
        method: Method = {"type": kind}
        method[kind] = {"hyperparameters": {"n_epochs": dataset.epochs}}
        try:
            job = self.client.fine_tuning.jobs.create(
                model=dataset.base_model,
                training_file=train_id,
                validation_file=validation_id,
                method=method,
                suffix=f"{self.config.suffix}-r{run.id}",
                seed=self.config.seed,
                metadata={"voiceloop_run": str(run.id), "voiceloop_dataset": dataset.id},
            )
        except openai.APIError as e:
            raise _classified(e, "OpenAI refused the fine-tuning job") from None
        events.append(
            JobProgress(
                "status", f"{kind} job {job.id} created on {dataset.base_model}", {"method": kind}
            )
        )
        return Submitted(job.id, events)

    def _job_of(self, run: TrainingRun) -> FineTuningJob | None:
        try:
            page = self.client.fine_tuning.jobs.list(
                metadata={"voiceloop_run": str(run.id)}, limit=100
            )
        except openai.APIError as e:
            raise _classified(e, "OpenAI could not list fine-tuning jobs") from None
        for job in page.data:
            if (job.metadata or {}).get("voiceloop_run") == str(run.id):
                return job
        return None

    def _moderate(self, files: dict[str, list[str]]) -> tuple[dict[str, list[str]], Counter[str]]:
        """Drop every example moderation flags; returns the kept lines and the
        flagged counts by category. Any failure stops the run before upload."""
        kept: dict[str, list[str]] = {}
        flagged: Counter[str] = Counter()
        for name, lines in files.items():
            kept[name] = []
            for start in range(0, len(lines), MODERATION_BATCH):
                batch = lines[start : start + MODERATION_BATCH]
                try:
                    answer = self.client.moderations.create(
                        model=self.config.moderation_model, input=[_example_text(x) for x in batch]
                    )
                except openai.APIError as e:
                    model = self.config.moderation_model
                    what = f"the moderation check ({model}) failed, so nothing was uploaded"
                    raise _classified(e, what) from None
                for line, result in zip(batch, answer.results, strict=True):
                    if result.flagged:
                        hits = [
                            c
                            for c, hit in result.categories.model_dump(by_alias=True).items()
                            if hit
                        ]
                        flagged.update(hits or ["flagged"])
                        flagged["examples"] += 1
                    else:
                        kept[name].append(line)
        return kept, flagged

    def _upload(self, name: str, lines: list[str]) -> str:
        data = "".join(line + "\n" for line in lines).encode("utf-8")
        try:
            uploaded = self.client.files.create(file=(name, data), purpose="fine-tune")
        except openai.APIError as e:
            raise _classified(e, f"OpenAI refused the upload of {name}") from None
        return uploaded.id

    # -- following a job ---------------------------------------------------------------

    def poll(self, run: TrainingRun) -> JobStatus:
        job_id = _job_id(run)
        try:
            job = self.client.fine_tuning.jobs.retrieve(job_id)
            listed = self.client.fine_tuning.jobs.list_events(job_id, limit=50)
        except openai.APIError as e:
            raise _classified(e, f"OpenAI could not report on job {job_id}") from None
        events = [_progress(e) for e in reversed(listed.data)]
        events.append(
            JobProgress(
                "status", f"job {job.status}", {"status": job.status}, f"status:{job.status}"
            )
        )
        if job.status in _RUNNING:
            return JobStatus("running", events)
        if job.status == "failed":
            error = job.error.message if job.error and job.error.message else "no reason given"
            return JobStatus("failed", events, error=f"OpenAI reports job {job_id} failed: {error}")
        if job.status == "cancelled":
            return JobStatus("cancelled", events)
        checkpoints, metrics = self._checkpoints(job_id)
        return JobStatus(
            "succeeded",
            events + checkpoints,
            trained_model=job.fine_tuned_model,
            trained_tokens=job.trained_tokens,
            metrics=metrics,
        )

    def _checkpoints(self, job_id: str) -> tuple[list[JobProgress], dict[str, float]]:
        try:
            page = self.client.fine_tuning.jobs.checkpoints.list(job_id, limit=10)
        except openai.APIError as e:
            raise _classified(e, f"OpenAI could not list the checkpoints of {job_id}") from None
        events, metrics = [], {}
        for checkpoint in sorted(page.data, key=lambda c: c.step_number):
            values = {k: v for k, v in checkpoint.metrics.model_dump().items() if v is not None}
            events.append(
                JobProgress(
                    "checkpoint",
                    f"checkpoint at step {checkpoint.step_number}",
                    {
                        "step": checkpoint.step_number,
                        "model": checkpoint.fine_tuned_model_checkpoint,
                        **values,
                    },
                    checkpoint.id,
                )
            )
            metrics = {k: float(v) for k, v in values.items()}  # the last checkpoint's
        return events, metrics

    def cancel(self, run: TrainingRun) -> None:
        try:
            self.client.fine_tuning.jobs.cancel(_job_id(run))
        except openai.BadRequestError:
            pass  # it already finished; nothing left to stop
        except openai.APIError as e:
            raise _classified(e, f"OpenAI could not cancel job {run.job_id}") from None

    # -- what people see first ------------------------------------------------------------

    def estimate(self, dataset_tokens: int, epochs: int) -> str:
        price = base_model_facts(self.config.base_model).usd_per_million_training_tokens
        if price is None:
            return f"{dataset_tokens * epochs:,} training tokens (no known OpenAI price)"
        return f"≈ ${dataset_tokens * epochs * price / 1_000_000:,.2f}"

    def warnings(self, live_model: str | None = None) -> list[str]:
        cached = self._warnings
        if (
            cached is not None
            and cached[1] == live_model
            and time.monotonic() - cached[0] < WARNINGS_TTL_SECONDS
        ):
            return list(cached[2])
        found = []
        if self.today() <= NO_NEW_JOBS_AFTER:
            found.append(
                "OpenAI has said it takes no new fine-tuning jobs after "
                f"{NO_NEW_JOBS_AFTER:%Y-%m-%d} and already refuses most organisations; "
                "VOICELOOP_TRAINER=local trains on your own GPU"
            )
        for role, model in (("base", self.config.base_model), ("live", live_model)):
            if model:
                found += self._shutdown(role, model)
        self._warnings = (time.monotonic(), live_model, found)
        return list(found)

    def _shutdown(self, role: str, model: str) -> list[str]:
        try:
            shutdown = self.client.models.retrieve(model).shutdown_date
        except openai.NotFoundError:
            return []  # not an OpenAI model (a self-hosted one)
        except openai.APIError as e:
            raise _classified(e, f"OpenAI could not describe {model}") from None
        if shutdown is None and _family(model):
            shutdown = f"{FAMILY_SHUTDOWN:%Y-%m-%d}"
        return [f"the {role} model {model} shuts down on {shutdown}"] if shutdown else []


class OpenAIServing:
    """A fine-tuned model answers at OpenAI under its own id: nothing to load,
    and the deployment's base_url stays None (the configured OpenAI endpoint).
    Nothing is retired either: deleting a fine-tune would break rollback."""

    def load(self, run: TrainingRun) -> tuple[str | None, str]:
        if not run.trained_model:
            raise TrainingRefusedError(f"run #{run.id} has no trained model")
        return None, run.trained_model

    def retire(self, keep: list[TrainingRun]) -> None:
        return None


def _read(path: Path) -> list[str] | None:
    if not path.exists():
        return None
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _example_text(line: str) -> str:
    """Everything a training example says, chat or preference pair, as one text."""
    example = json.loads(line)
    messages = example.get("messages") or example.get("input", {}).get("messages", [])
    for key in ("preferred_output", "non_preferred_output"):
        messages = [*messages, *example.get(key, [])]
    return "\n".join(str(m.get("content", "")) for m in messages)


def _moderation_note(flagged: Counter[str], total: int) -> JobProgress:
    dropped = flagged.pop("examples", 0)
    if not dropped:
        return JobProgress("log", f"moderation passed all {total} examples", {"flagged": 0})
    categories = ", ".join(f"{c} {n}" for c, n in flagged.most_common())
    return JobProgress(
        "log",
        f"moderation flagged {dropped} of {total} examples ({categories}); they were left out",
        {"flagged": dropped, "categories": dict(flagged)},
    )


def _progress(event: FineTuningJobEvent) -> JobProgress:
    data = event.data if isinstance(event.data, dict) else {}
    kind: ProgressKind = "progress" if event.type == "metrics" else "log"
    return JobProgress(kind, event.message, dict(data), event.id)


def _job_id(run: TrainingRun) -> str:
    if not run.job_id:
        raise TrainingRefusedError(f"run #{run.id} has no job at OpenAI")
    return run.job_id


def _family(model: str) -> bool:
    name = model.split(":")[1] if model.startswith("ft:") else model
    return any(name == f or name.startswith(f + "-") for f in SHUTDOWN_FAMILIES)
