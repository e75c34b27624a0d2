"""What the retrain flow tells people: the dry-run card, run updates, the status page."""

from dataclasses import dataclass, field
from typing import Literal

from curation.dataset.build import BuildResult
from curation.evaluation.stats import GateSummary
from curation.prompt_tokens import PromptTokens
from storage import DatasetVersion, Deployment, RunEvent, TrainingRun

UpdateKind = Literal["progress", "promoted", "held", "failed", "cancelled"]


@dataclass(frozen=True)
class RetrainPreview:
    """The dry-run card: what a run on this dataset version would train and cost."""

    build: BuildResult
    backend: str
    base_model: str
    estimate: str
    warnings: list[str]

    @property
    def dataset(self) -> DatasetVersion | None:
        return self.build.version

    @property
    def examples(self) -> int:
        return len(self.build.curated.train) + len(self.build.curated.validation)

    @property
    def tokens(self) -> int:
        return self.build.curated.train_tokens + self.build.curated.validation_tokens

    @property
    def preference_pairs(self) -> int:
        return self.dataset.preference_pairs if self.dataset else 0

    def top_rejections(self, n: int = 5) -> list[tuple[str, int]]:
        return list(self.build.curated.rejection_counts.items())[:n]


@dataclass(frozen=True)
class RunUpdate:
    """Something people should hear about a run: plain text, one paragraph, no secrets."""

    run: TrainingRun
    kind: UpdateKind
    text: str


@dataclass(frozen=True)
class LifecycleStatus:
    backend: str
    live: Deployment | None
    history: list[Deployment]  # newest first
    in_flight: TrainingRun | None
    events: list[RunEvent]  # the run in flight's latest, oldest first
    last_run: TrainingRun | None  # the newest run that is no longer in flight
    last_evaluation: GateSummary | None  # of the newest run the gate judged
    votes_since_last_run: int
    corrections_since_last_run: int
    prompt_tokens: PromptTokens | None  # live against the deployment before it
    warnings: list[str] = field(default_factory=list)
    # Examples the newest dataset version kept that the last run's did not, and
    # when that version was built (curating to count them costs a full pass, so
    # the figure is the last dry run's, `voiceloop curate`'s or a run's); None
    # before any dataset was built.
    kept_since_last_run: int | None = None
    kept_counted_at: str | None = None
