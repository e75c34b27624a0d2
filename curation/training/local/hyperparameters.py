"""The LoRA recipe a local run trains with: values from settings, recorded in the run's metadata."""

from dataclasses import asdict, dataclass

# Every linear layer but the output head: PEFT's shorthand, which works for any
# decoder architecture without naming its projections.
ALL_LINEAR = ("all-linear",)


@dataclass(frozen=True, slots=True)
class LoraHyperparameters:
    """Defaults suit a few hundred to a few thousand short chat examples: rank 16
    adapts enough for tone and format, 2e-4 is the usual LoRA learning rate, and an
    effective batch of 8 gives a few dozen to a few hundred optimizer steps."""

    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ALL_LINEAR
    learning_rate: float = 2e-4
    # None: the dataset version's epochs (the plan its id was made from).
    epochs: int | None = None
    batch_size: int = 4
    gradient_accumulation: int = 2
    max_seq_length: int = 2048
    # DPO runs after supervised training when the dataset has at least this many
    # preference pairs; fewer pairs teach little and overfit fast.
    dpo_min_pairs: int = 50
    dpo_beta: float = 0.1
    dpo_learning_rate: float = 5e-6
    seed: int = 42

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["target_modules"] = list(self.target_modules)
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> "LoraHyperparameters":
        values = dict(data)
        modules = values.pop("target_modules", list(ALL_LINEAR))
        if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
            raise ValueError("target_modules must be a list of module names")
        return cls(target_modules=tuple(modules), **values)  # type: ignore[arg-type]

    def peft_target_modules(self) -> str | list[str]:
        """What PEFT's LoraConfig takes: the "all-linear" shorthand alone, or names."""
        if self.target_modules == ALL_LINEAR:
            return ALL_LINEAR[0]
        return list(self.target_modules)
