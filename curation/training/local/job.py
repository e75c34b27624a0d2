"""A local training job as the bot hands it to the trainer process: one JSON file,
and the files the process writes back beside it under VOICELOOP_MODELS_DIR/<run>/."""

import json
from dataclasses import dataclass
from pathlib import Path

from curation.training.local.hyperparameters import LoraHyperparameters

JOB = "job.json"
PROGRESS = "progress.jsonl"
LOG = "train.log"
METADATA = "metadata.json"
PID = "pid"


@dataclass(frozen=True, slots=True)
class LocalJob:
    run_id: int
    dataset_id: str
    dataset_dir: Path
    base_model: str
    run_dir: Path
    epochs: int
    hyperparameters: LoraHyperparameters

    @property
    def progress_path(self) -> Path:
        return self.run_dir / PROGRESS

    @property
    def log_path(self) -> Path:
        return self.run_dir / LOG

    @property
    def metadata_path(self) -> Path:
        return self.run_dir / METADATA

    @property
    def job_path(self) -> Path:
        return self.run_dir / JOB

    def as_json(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "dataset_id": self.dataset_id,
            "dataset_dir": str(self.dataset_dir),
            "base_model": self.base_model,
            "run_dir": str(self.run_dir),
            "epochs": self.epochs,
            "hyperparameters": self.hyperparameters.as_json(),
        }

    def write(self) -> Path:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.as_json(), indent=2) + "\n"
        self.job_path.write_text(text, encoding="utf-8")
        return self.job_path


def read_job(path: Path) -> LocalJob:
    data = json.loads(path.read_text(encoding="utf-8"))
    return LocalJob(
        run_id=int(data["run_id"]),
        dataset_id=str(data["dataset_id"]),
        dataset_dir=Path(data["dataset_dir"]),
        base_model=str(data["base_model"]),
        run_dir=Path(data["run_dir"]),
        epochs=int(data["epochs"]),
        hyperparameters=LoraHyperparameters.from_json(data["hyperparameters"]),
    )
