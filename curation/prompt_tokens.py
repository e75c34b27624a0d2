"""System-prompt and total prompt tokens per reply, before and after a promotion."""

from dataclasses import dataclass

from curation.dataset.tokens import TOKENS_PER_MESSAGE, count_tokens
from storage import Deployment, Store


@dataclass(frozen=True)
class PromptTokens:
    before: int  # system-prompt tokens per reply with the earlier deployment
    after: int  # ... with this one
    # Mean prompt tokens per reply as the model reported them (system prompt,
    # thread and question); None until a deployment has answered.
    total_before: float | None = None
    total_after: float | None = None

    @property
    def reduction(self) -> float:
        """The share of system-prompt tokens saved per reply (0.97 = 97% fewer)."""
        return 1 - self.after / self.before if self.before else 0.0

    def describe(self) -> str:
        text = (
            f"System prompt per reply: {self.before:,} → {self.after:,} tokens "
            f"({self.reduction:.1%} fewer)"
        )
        if self.total_before is not None and self.total_after is not None:
            text += f"; whole prompt {self.total_before:,.0f} → {self.total_after:,.0f} tokens"
        return text


def system_prompt_tokens(prompt: str, model: str) -> int:
    """What the system message costs in every request (the cookbook's rule)."""
    return TOKENS_PER_MESSAGE + count_tokens("system", model) + count_tokens(prompt, model)


def prompt_tokens(store: Store, before: Deployment, after: Deployment) -> PromptTokens:
    return PromptTokens(
        before=system_prompt_tokens(store.prompt(before.prompt_id).content, before.model),
        after=system_prompt_tokens(store.prompt(after.prompt_id).content, after.model),
        total_before=store.mean_prompt_tokens(before.id),
        total_after=store.mean_prompt_tokens(after.id),
    )
