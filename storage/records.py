"""Typed rows: what the rest of voiceloop reads from and writes to storage."""

from dataclasses import dataclass, field
from typing import Literal

PromptKind = Literal["voice_guide", "post_training"]


@dataclass(frozen=True)
class Prompt:
    id: str
    kind: str
    content: str
    created_at: str


@dataclass(frozen=True)
class Deployment:
    """The live (model, system prompt) pair at some point in time."""

    id: int
    model: str
    prompt_id: str
    origin: str
    created_at: str
    base_url: str | None = None
    note: str | None = None
    # Provenance: the run and dataset version a trained model came from (None
    # for the configured pair), and for a rollback the row it restores.
    run_id: int | None = None
    dataset_id: str | None = None
    restores_id: int | None = None


# Replies, votes, corrections and turns are read and imported by the hundred
# thousand: slots, and not frozen, since a frozen dataclass's __init__ costs
# several times as much. Nothing changes one after it is made.
@dataclass(slots=True)
class ChatTurn:
    role: Literal["user", "assistant"]
    content: str


@dataclass(slots=True)
class Reply:
    """One bot reply, addressed by Slack's (channel, ts) of the reply message."""

    channel: str
    ts: str
    text: str
    thread_ts: str | None = None
    asked_by: str | None = None
    question: str = ""
    # Earlier turns of the thread that were sent to the model (system prompt and
    # the question itself excluded), oldest first.
    context: tuple[ChatTurn, ...] = field(default_factory=tuple)
    model: str | None = None
    prompt_id: str | None = None
    deployment_id: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: int | None = None
    origin: str = "live"
    created_at: str = ""


@dataclass(slots=True)
class Vote:
    channel: str
    ts: str
    user: str
    value: int  # +1 good, -1 bad
    source: str  # "reaction:<name>", "feedback_button" or "correction"
    updated_at: str
    # Slack's time of the verdict this vote holds; None for imported votes.
    event_ts: str | None = None


@dataclass(slots=True)
class Correction:
    channel: str
    ts: str
    user: str
    text: str
    created_at: str


RunStatus = Literal[
    "preparing", "submitted", "running", "evaluating", "promoted", "held", "failed", "cancelled"
]
RUN_STATUSES: tuple[RunStatus, ...] = (
    "preparing",
    "submitted",
    "running",
    "evaluating",
    "promoted",
    "held",
    "failed",
    "cancelled",
)
# A run in one of these states is still owned by the flow; the database lets
# only one exist (storage.migrations.m010_runs).
IN_FLIGHT: tuple[RunStatus, ...] = ("preparing", "submitted", "running", "evaluating")
RunEventKind = Literal["status", "progress", "checkpoint", "log"]
Outcome = Literal["win", "loss", "tie"]


@dataclass(frozen=True, slots=True)
class TrainingRun:
    """One training run: the dataset version it trains on, the provider's job,
    what came out, and the evaluation gate's summary."""

    id: int
    backend: str
    base_model: str
    dataset_id: str
    status: RunStatus
    created_at: str
    updated_at: str
    job_id: str | None = None
    requested_by: str | None = None
    trained_tokens: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    trained_model: str | None = None
    serve_base_url: str | None = None
    win_rate: float | None = None
    win_rate_low: float | None = None
    win_rate_high: float | None = None
    flip_rate: float | None = None
    length_ratio: float | None = None
    rule_pass_candidate: float | None = None
    rule_pass_live: float | None = None
    decision: str | None = None

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT


@dataclass(frozen=True, slots=True)
class RunEvent:
    run_id: int
    at: str
    kind: RunEventKind
    message: str
    data: dict[str, object] = field(default_factory=dict)
    # The provider's id for the event, when it has one (polls repeat events).
    ref: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judge's answer for one order of one pair: "A", "B" or "tie", and why."""

    winner: Literal["A", "B", "tie"]
    reason: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One held-out prompt judged by the gate. In `verdict_ab` the candidate is
    A and the live reply B; in `verdict_ba` the other way round."""

    run_id: int
    prompt_key: str
    prompt: str
    candidate_reply: str
    live_reply: str
    verdict_ab: Verdict
    verdict_ba: Verdict
    outcome: Outcome
    candidate_rules_ok: bool
    live_rules_ok: bool
    created_at: str = ""


@dataclass(frozen=True)
class DatasetReplies:
    """Which replies a dataset version was built from, as the rows
    `dataset_replies` keeps. Built before the write, so that the write's
    caller (a dry run's normal-priority thread) spends its time on SQL, not
    on making 40,000 tuples."""

    dataset_id: str
    rows: list[tuple[str, str, str, str]]  # dataset id, channel, ts, split

    @classmethod
    def of(cls, dataset_id: str, replies: dict[str, list[str]]) -> "DatasetReplies":
        """`replies`: Slack "channel/ts" keys by split."""
        return cls(
            dataset_id,
            [
                (dataset_id, *key.partition("/")[::2], split)
                for split, keys in replies.items()
                for key in keys
            ],
        )


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a deployment came from, back to the ratings."""

    deployment: Deployment
    run: TrainingRun | None
    dataset_id: str | None
    # Replies the dataset version was built from, by split ("train", "validation").
    replies: dict[str, int]
    votes: int
    corrections: int


@dataclass(frozen=True, slots=True)
class Arrival:
    """A message to answer, as received: kept before its ack (storage/intake.py)."""

    channel: str
    ts: str
    user: str
    text: str
    thread_ts: str | None = None

    @property
    def root(self) -> str:
        """The thread the reply goes in: the message's own thread, or a new one under it."""
        return self.thread_ts or self.ts


@dataclass(frozen=True, slots=True)
class Claim:
    """Who is answering a message, and whether the answer was posted and stored.

    Keyed by the message's (channel, ts); the message's own fields are kept so
    a restart can answer it without Slack delivering it again.
    """

    channel: str
    ts: str
    state: str  # "claimed" -> "answered", or "released" when the work failed
    claimed_by: str
    claimed_at: str
    attempts: int
    user: str = ""
    text: str = ""
    thread_ts: str | None = None
    # The "Thinking…" message posted for it, reused when the work is redone.
    placeholder_ts: str | None = None
    reply_ts: str | None = None
    answered_at: str | None = None


@dataclass(frozen=True)
class ImportedChannel:
    """A channel's last complete import from a Slack export: digests of its day
    files and of the import settings, so a rerun can skip it when both match,
    and the rows it gave then."""

    channel: str
    files_digest: str
    settings_digest: str
    replies: int
    votes: int
    imported_at: str
