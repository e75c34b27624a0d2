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


@dataclass(frozen=True, slots=True)
class ChatTurn:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class Vote:
    channel: str
    ts: str
    user: str
    value: int  # +1 good, -1 bad
    source: str  # "reaction:<name>", "feedback_button" or "correction"
    updated_at: str


@dataclass(frozen=True, slots=True)
class Correction:
    channel: str
    ts: str
    user: str
    text: str
    created_at: str
