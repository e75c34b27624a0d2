"""The judge: which of two replies better fits the brand voice and Slack's format."""

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from curation.evaluation.prompts import HeldOutPrompt
from storage import Verdict

if TYPE_CHECKING:
    import openai

INSTRUCTIONS = """You judge replies a Slack assistant wrote for a team. Compare reply A and \
reply B to the same conversation for how well each matches the brand voice described below \
and for Slack formatting (Slack mrkdwn, not Markdown; the length a Slack reader wants). \
Judge the voice and format, not which reply is longer. Answer "tie" when neither is \
clearly better.

The brand voice guide:
---
{guide}
---"""


class _Answer(BaseModel):
    # Strict structured output: exactly these two fields.
    model_config = ConfigDict(extra="forbid")
    winner: Literal["A", "B", "tie"]
    reason: str


class JudgeError(Exception):
    """The judge gave no usable verdict (refused, or not the schema)."""


class Judge:
    def __init__(self, client: "openai.OpenAI", model: str, voice_guide: str) -> None:
        self.client = client
        self.model = model
        self.instructions = INSTRUCTIONS.format(guide=voice_guide.strip())

    def compare(self, prompt: HeldOutPrompt, a: str, b: str) -> Verdict:
        """One order; raises openai.APIError on a failed call, JudgeError on a bad answer."""
        message = (
            f"The conversation:\n{prompt.transcript()}\n\n"
            f"Reply A:\n{a}\n\nReply B:\n{b}\n\nWhich reply is better?"
        )
        completion = self.client.chat.completions.parse(
            model=self.model,
            messages=[
                {"role": "system", "content": self.instructions},
                {"role": "user", "content": message},
            ],
            response_format=_Answer,
        )
        choice = completion.choices[0] if completion.choices else None
        parsed = choice.message.parsed if choice else None
        if parsed is None:
            refusal = choice.message.refusal if choice else None
            raise JudgeError(f"the judge gave no verdict ({refusal or 'empty answer'})")
        return Verdict(parsed.winner, parsed.reason)
