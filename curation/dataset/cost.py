"""What a training run on a dataset will cost, before anyone starts one."""

from dataclasses import dataclass

from curation.dataset.base_models import BaseModelFacts

# OpenAI's rule for the default epoch count, from its fine-tuning data-prep
# guide: aim for about 3 passes, but see at least 100 and at most 25,000
# examples in total, within 1 to 25 epochs.
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25


@dataclass(frozen=True)
class TrainingEstimate:
    epochs: int
    tokens_per_epoch: int
    billed_tokens: int
    usd: float | None

    def describe(self, model: str) -> str:
        """One line for people, the same in the CLI summary and in Slack."""
        cost = "no per-token price (self-hosted)" if self.usd is None else f"about ${self.usd:,.2f}"
        return (
            f"training {model} for {self.epochs} epochs × {self.tokens_per_epoch:,} tokens = "
            f"{self.billed_tokens:,} billed tokens, {cost}"
        )

    def as_json(self) -> dict[str, object]:
        return {
            "epochs": self.epochs,
            "tokens_per_epoch": self.tokens_per_epoch,
            "billed_tokens": self.billed_tokens,
            "usd": None if self.usd is None else round(self.usd, 4),
        }


def default_epochs(examples: int) -> int:
    if examples <= 0:
        return TARGET_EPOCHS
    if examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // examples)
    if examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // examples)
    return TARGET_EPOCHS


def estimate_training(
    example_tokens: list[int], model: BaseModelFacts, epochs: int | None = None
) -> TrainingEstimate:
    """Billed tokens are every training example's tokens once per epoch."""
    n_epochs = epochs or default_epochs(len(example_tokens))
    per_epoch = sum(min(t, model.example_token_limit) for t in example_tokens)
    billed = per_epoch * n_epochs
    price = model.usd_per_million_training_tokens
    usd = None if price is None else billed * price / 1_000_000
    return TrainingEstimate(n_epochs, per_epoch, billed, usd)
