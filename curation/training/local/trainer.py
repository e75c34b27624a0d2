"""The `local` training backend: LoRA on an open-weight model in a child process.

submit starts the trainer process, poll reads what it wrote (progress lines,
exit, metadata), cancel stops its process group. Everything it needs to know
lives in the run's folder (VOICELOOP_MODELS_DIR/<run id>/), so a restarted bot
polls a run in flight exactly as the bot that started it would.
"""

import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path

from curation.training.backend import (
    JobProgress,
    JobStatus,
    ProgressKind,
    Submitted,
    TrainingRefusedError,
)
from curation.training.local.config import LocalTrainerConfig
from curation.training.local.job import LocalJob, read_job
from curation.training.local.process import TrainerProcesses, log_tail, trainer_command
from curation.training.local.progress import ProgressLine, read_progress
from storage import DatasetVersion, TrainingRun

# What the trainer process imports; checked before a run starts, since the bot
# itself never imports them.
_EXTRA_MODULES = ("torch", "transformers", "peft", "trl", "accelerate", "datasets")
INSTALL_HINT = "install it with: pip install 'voiceloop[local]'"
_OFFSET = "progress.offset"
_CANCELLED = "cancelled"


def missing_local_extra() -> list[str]:
    """The trainer's libraries that are not installed."""
    return [name for name in _EXTRA_MODULES if importlib.util.find_spec(name) is None]


def require_local_extra() -> None:
    missing = missing_local_extra()
    if missing:
        raise TrainingRefusedError(
            f"VOICELOOP_TRAINER=local needs the local extra ({', '.join(missing)} missing); "
            + INSTALL_HINT
        )


@dataclass
class LocalTrainer:
    config: LocalTrainerConfig
    name: str = "local"
    _processes: TrainerProcesses = field(default_factory=TrainerProcesses)

    def submit(self, run: TrainingRun, dataset: DatasetVersion) -> Submitted:
        require_local_extra()
        run_dir = self._run_dir(run)
        if (run_dir / "job.json").exists():
            # A bot that crashed after starting the process but before recording
            # the job: the process (or what it left) is this run's.
            return Submitted(job_id=str(run_dir))
        job = LocalJob(
            run_id=run.id,
            dataset_id=dataset.id,
            dataset_dir=Path(dataset.path).resolve(),
            base_model=_local_path_or_id(self.config.base_model),
            run_dir=run_dir,
            epochs=dataset.epochs,
            hyperparameters=self.config.hyperparameters,
        )
        job_path = job.write()
        command = trainer_command(job_path, self.config.accelerate_config)
        pid = self._processes.start(job, command)
        started = JobProgress(
            "status",
            f"trainer process {pid} started on {self.config.base_model}",
            {"pid": pid, "run_dir": str(run_dir), "command": command[1:]},
        )
        return Submitted(job_id=str(run_dir), events=[started])

    def poll(self, run: TrainingRun) -> JobStatus:
        job = self._job(run)
        offset_path = job.run_dir / _OFFSET
        offset = _read_offset(offset_path)
        lines, next_offset = read_progress(job.progress_path, offset)
        events = [_event(line) for line in lines]
        if next_offset != offset:
            offset_path.write_text(str(next_offset), encoding="utf-8")
        if (job.run_dir / _CANCELLED).exists():
            return JobStatus("cancelled", events)
        if job.metadata_path.exists():
            metadata = json.loads(job.metadata_path.read_text(encoding="utf-8"))
            return JobStatus(
                "succeeded",
                events,
                trained_model=str(job.run_dir),
                trained_tokens=int(metadata.get("trained_tokens") or 0),
                metrics={k: float(v) for k, v in metadata.get("metrics", {}).items()},
            )
        process = self._processes.state(job)
        if process.alive:
            return JobStatus("running", events)
        return JobStatus("failed", events, error=_failure(job, process.exit_code))

    def cancel(self, run: TrainingRun) -> None:
        job = self._job(run)
        # Marked first: a poll that sees the process gone then says cancelled, not failed.
        (job.run_dir / _CANCELLED).write_text("", encoding="utf-8")
        self._processes.terminate(job)

    def estimate(self, dataset_tokens: int, epochs: int) -> str:
        epochs = self.config.hyperparameters.epochs or epochs
        seconds = dataset_tokens * epochs / self.config.tokens_per_second
        return gpu_time(seconds)

    def warnings(self, live_model: str | None = None) -> list[str]:
        found = []
        missing = missing_local_extra()
        if missing:
            found.append(f"The local trainer's libraries are not installed; {INSTALL_HINT}.")
        config = self.config.accelerate_config
        if config is not None and not config.is_file():
            found.append(f"VOICELOOP_ACCELERATE_CONFIG: {config} does not exist.")
        return found

    def _run_dir(self, run: TrainingRun) -> Path:
        return (self.config.models_dir / str(run.id)).resolve()

    def _job(self, run: TrainingRun) -> LocalJob:
        run_dir = Path(run.job_id) if run.job_id else self._run_dir(run)
        try:
            return read_job(run_dir / "job.json")
        except (OSError, ValueError, KeyError) as e:
            raise TrainingRefusedError(
                f"run #{run.id}'s folder {run_dir} is gone or damaged ({type(e).__name__}); "
                "start a new run"
            ) from e


def gpu_time(seconds: float) -> str:
    if seconds < 60:
        return "under a minute of GPU time"
    minutes = seconds / 60
    if minutes < 90:
        return f"≈ {round(minutes)} min of GPU time"
    return f"≈ {minutes / 60:.1f} hours of GPU time"


def _local_path_or_id(base_model: str) -> str:
    """An existing folder as an absolute path (the trainer runs elsewhere in the
    tree); anything else is a hub id, passed as given."""
    path = Path(base_model).expanduser()
    return str(path.resolve()) if path.is_dir() else base_model


def _event(line: ProgressLine) -> JobProgress:
    # The offset names the line, so a poll repeated after a crash records it once.
    ref = f"progress@{line.offset}"
    kind: ProgressKind
    if line.kind == "done":
        kind = "status"
    elif line.kind == "failed":
        kind = "log"
    else:
        kind = line.kind
    return JobProgress(kind, line.message, line.data, ref)


def _failure(job: LocalJob, exit_code: int | None) -> str:
    lines, _ = read_progress(job.progress_path, 0)
    reported = [line.message for line in lines if line.kind == "failed"]
    if reported:
        why = reported[-1]
    elif exit_code is not None and exit_code < 0:
        why = f"the trainer process was killed by signal {-exit_code}"
        if exit_code == -9:
            why += " (out of memory, or killed by hand)"
    elif exit_code is not None:
        why = f"the trainer process exited with status {exit_code}"
    else:
        why = "the trainer process stopped without finishing (killed, or out of memory)"
    tail = log_tail(job)
    return f"{why}. Last lines of {job.log_path}:\n{tail}" if tail else f"{why}."


def _read_offset(path: Path) -> int:
    try:
        return int(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return 0
