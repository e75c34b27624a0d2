"""What the dataset pipeline passes along: labeled replies in, examples and rejections out."""

from dataclasses import dataclass, field
from typing import Literal

from storage import Correction, Reply, Vote

Role = Literal["system", "user", "assistant"]
ExampleSource = Literal["votes", "correction"]


@dataclass(slots=True)
class LabeledReply:
    """A bot reply with every rating the team gave it."""

    reply: Reply
    votes: tuple[Vote, ...] = ()
    corrections: tuple[Correction, ...] = ()

    @property
    def key(self) -> str:
        return reply_key(self.reply.channel, self.reply.ts)

    @property
    def thread(self) -> str:
        # A thread's replies share their context, so they must land on the same
        # side of the train/validation split.
        return f"{self.reply.channel}/{self.reply.thread_ts or self.reply.ts}"


def reply_key(channel: str, ts: str) -> str:
    """How reports and datasets name a reply: Slack's (channel, ts) address."""
    return f"{channel}/{ts}"


# ChatMessage, Example and Rejection are made by the hundred thousand: slots,
# and not frozen, since a frozen dataclass's __init__ costs three times as much.
@dataclass(slots=True)
class ChatMessage:
    """One message of a chat example."""

    role: Role
    content: str
    # 0 on earlier assistant turns: they were never rated, so the model should
    # read them as context without learning to write like them.
    weight: Literal[0, 1] | None = None

    def as_json(self) -> dict[str, object]:
        message: dict[str, object] = {"role": self.role, "content": self.content}
        if self.weight is not None:
            message["weight"] = self.weight
        return message


@dataclass(slots=True)
class Example:
    """One chat-format training example whose last message is the rated target."""

    key: str
    thread: str
    source: ExampleSource
    messages: tuple[ChatMessage, ...]
    net_votes: int = 0
    created_at: str = ""
    # The bot's original reply when a correction replaced it: the losing side of
    # a preference pair.
    rejected: str | None = None
    tokens: int = 0

    @property
    def target(self) -> str:
        return self.messages[-1].content

    @property
    def question(self) -> str:
        return self.messages[-2].content


@dataclass(slots=True)
class Rejection:
    """Why a reply did not become a training example (one line in the report)."""

    key: str
    reason: str
    detail: str = ""

    def as_json(self) -> dict[str, str]:
        row = {"reply": self.key, "reason": self.reason}
        if self.detail:
            row["detail"] = self.detail
        return row


@dataclass(frozen=True)
class Sifted:
    """What a pipeline stage kept and what it turned away."""

    kept: list[Example] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    # Keys of kept examples alike enough to be looked at together, though
    # not alike enough to drop one (dedup): the split keeps them together.
    related: list[tuple[str, str]] = field(default_factory=list)
