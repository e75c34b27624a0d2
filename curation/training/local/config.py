"""The local backend's settings as values (the bot's Settings fill them in)."""

from dataclasses import dataclass, field
from pathlib import Path

from curation.training.local.hyperparameters import LoraHyperparameters

# Training throughput the GPU-time estimate assumes until VOICELOOP_LOCAL_TOKENS_PER_SECOND
# says otherwise. Not yet measured on the reference GPU: a conservative figure for
# LoRA on a 7-8B model in bf16 on one 80 GB GPU (README, Self-hosted training).
DEFAULT_LOCAL_TOKENS_PER_SECOND = 2000.0


@dataclass(frozen=True)
class LocalTrainerConfig:
    base_model: str
    models_dir: Path = Path("models")
    hyperparameters: LoraHyperparameters = field(default_factory=LoraHyperparameters)
    accelerate_config: Path | None = None
    tokens_per_second: float = DEFAULT_LOCAL_TOKENS_PER_SECOND
    # The OpenAI-compatible server (vLLM) the adapters are loaded into.
    serve_base_url: str = "http://127.0.0.1:8000/v1"
