"""What the curation pipeline must know about the model a fine-tune starts from."""

import re
from dataclasses import dataclass

# OpenAI refuses a fine-tuning job with fewer training examples than this; a
# validation file may hold fewer, so falling short there is only a warning.
MIN_TRAINING_EXAMPLES = 10


@dataclass(frozen=True)
class BaseModelFacts:
    name: str
    # Most tokens one training example may hold; longer ones are cut or refused.
    example_token_limit: int
    # None where training is not billed per token (self-hosted GPUs).
    usd_per_million_training_tokens: float | None


# OpenAI's fine-tunable chat models: training-example context length and the
# supervised training price per 1M tokens, from OpenAI's fine-tuning and
# pricing pages. Update both when OpenAI changes them.
OPENAI_MODELS: dict[str, tuple[int, float]] = {
    "gpt-4.1-2025-04-14": (65_536, 25.00),
    "gpt-4.1-mini-2025-04-14": (65_536, 5.00),
    "gpt-4.1-nano-2025-04-14": (65_536, 1.50),
    "gpt-4o-2024-08-06": (65_536, 25.00),
    "gpt-4o-mini-2024-07-18": (65_536, 3.00),
    "gpt-3.5-turbo-0125": (16_385, 8.00),
}

# Open-weight models are trained locally with LoRA; 8k tokens covers a long
# Slack thread and keeps activation memory modest. The rules file can change it.
LOCAL_EXAMPLE_TOKEN_LIMIT = 8192

_SNAPSHOT = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{4})$")


def base_model_facts(model: str, token_limit: int | None = None) -> BaseModelFacts:
    """Facts for a model id: a snapshot, its alias, an `ft:` model built on it,
    or an open-weight model name."""
    name = _strip_fine_tune(model)
    snapshot = name if name in OPENAI_MODELS else _snapshot_of(name)
    if snapshot is not None:
        limit, price = OPENAI_MODELS[snapshot]
        return BaseModelFacts(model, token_limit or limit, price)
    return BaseModelFacts(model, token_limit or LOCAL_EXAMPLE_TOKEN_LIMIT, None)


def _strip_fine_tune(model: str) -> str:
    # ft:gpt-4.1-mini-2025-04-14:org::abc123 continues training from that base.
    return model.split(":")[1] if model.startswith("ft:") and model.count(":") >= 2 else model


def _snapshot_of(alias: str) -> str | None:
    for snapshot in OPENAI_MODELS:
        if _SNAPSHOT.sub("", snapshot) == alias:
            return snapshot
    return None


def unknown_base_model(model: str, source: str) -> str | None:
    """A warning when `model` (from `source`, such as VOICELOOP_BASE_MODEL) is
    neither an OpenAI fine-tunable model nor named like an open-weight one, so a
    typo is not silently trained and priced as a self-hosted model."""
    name = _strip_fine_tune(model)
    # Hub ids (Qwen/Qwen2.5-7B-Instruct) and local paths are open-weight models.
    if name in OPENAI_MODELS or _snapshot_of(name) is not None or "/" in name:
        return None
    known = ", ".join(OPENAI_MODELS)
    return (
        f"{source} {model!r} is not a known base model; assuming a self-hosted model with "
        f"{LOCAL_EXAMPLE_TOKEN_LIMIT:,} tokens per example and no per-token price. "
        f"Known OpenAI models: {known}; an open-weight model is named by its hub id "
        "(such as Qwen/Qwen2.5-7B-Instruct) or its folder"
    )
