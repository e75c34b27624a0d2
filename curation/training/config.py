"""Each backend's settings as values; the factory builds the backend from one of them."""

from dataclasses import dataclass

from curation.training.local.config import LocalTrainerConfig

MODERATION_MODEL = "omni-moderation-latest"


@dataclass(frozen=True)
class OpenAITrainerConfig:
    base_model: str
    # DPO instead of supervised training from this many preference pairs on.
    dpo_min_pairs: int = 50
    seed: int = 42
    suffix: str = "voiceloop"
    moderation_model: str = MODERATION_MODEL


TrainerConfig = OpenAITrainerConfig | LocalTrainerConfig
