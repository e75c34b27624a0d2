"""The one interface every training backend implements, and what it reports back."""

from dataclasses import dataclass, field
from typing import Literal, Protocol

from storage import DatasetVersion, TrainingRun

ProgressKind = Literal["status", "progress", "checkpoint", "log"]

# Said after every refusal, so the way out is always in the message.
LOCAL_HINT = (
    "To train on your own GPU instead, set VOICELOOP_TRAINER=local "
    "(with VOICELOOP_LOCAL_BASE_MODEL and VOICELOOP_SERVE_BASE_URL) and restart voiceloop."
)


@dataclass(frozen=True, slots=True)
class JobProgress:
    """One thing that happened since the last poll."""

    kind: ProgressKind
    message: str
    # e.g. {"step": 10, "epoch": 0.5, "loss": 1.2, "learning_rate": 1e-4}
    data: dict[str, object] = field(default_factory=dict)
    # The provider's id for it, when it has one: polls that return the same
    # event again (after a restart, or overlapping pages) record it once.
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Submitted:
    """A job the provider accepted, and what happened on the way (moderation
    counts, uploaded files)."""

    job_id: str
    events: list[JobProgress] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class JobStatus:
    state: Literal["running", "succeeded", "failed", "cancelled"]
    events: list[JobProgress] = field(default_factory=list)
    trained_model: str | None = None  # what the serving side loads / chat calls
    trained_tokens: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None  # the provider's message, no secrets


class TrainingRefusedError(Exception):
    """The provider said no for good (organisation not allowed, model not
    fine-tunable, a bad file): the message is the provider's, plus what to do."""


class TrainingUnavailableError(Exception):
    """The provider could not be reached or kept failing (5xx, 429 after
    retries, timeouts); trying again later may work."""


class TrainingBackend(Protocol):
    name: str  # "openai" | "local"

    def submit(self, run: TrainingRun, dataset: DatasetVersion) -> Submitted:
        """Start the job. Safe to call again for the same run after a crash:
        it finds the job it created before instead of creating another.
        Raises TrainingRefusedError or TrainingUnavailableError."""
        ...

    def poll(self, run: TrainingRun) -> JobStatus:
        """Where the job stands; idempotent and safe after a restart. Raises
        TrainingUnavailableError when the provider cannot answer now."""
        ...

    def cancel(self, run: TrainingRun) -> None: ...

    def estimate(self, dataset_tokens: int, epochs: int) -> str:
        """What a run costs, for people: "≈ $2.40" or "≈ 25 min of GPU time"."""
        ...

    def warnings(self, live_model: str | None = None) -> list[str]:
        """What people should know before relying on this backend: shutdown
        dates of the base or live model, refusals known."""
        ...


class ModelServing(Protocol):
    """Makes a trained model answerable at (base_url, model) and retires old ones."""

    def load(self, run: TrainingRun) -> tuple[str | None, str]:
        """(base_url, model name) the candidate answers at; base_url None means
        the default OpenAI-compatible endpoint."""
        ...

    def retire(self, keep: list[TrainingRun]) -> None:
        """Unload everything but these (the local backend keeps the previous
        adapter for an instant rollback)."""
        ...


@dataclass(frozen=True)
class Backend:
    """A trainer and the serving side that goes with it."""

    trainer: TrainingBackend
    serving: ModelServing

    @property
    def name(self) -> str:
        return self.trainer.name
