"""Epochs, base-model facts and the training estimate."""

import pytest

from curation.dataset.base_models import LOCAL_EXAMPLE_TOKEN_LIMIT, base_model_facts
from curation.dataset.cost import default_epochs, estimate_training


@pytest.mark.parametrize(
    ("examples", "epochs"), [(1, 25), (10, 10), (34, 3), (1000, 3), (10_000, 2), (50_000, 1)]
)
def test_default_epochs_follow_openais_rule(examples: int, epochs: int) -> None:
    assert default_epochs(examples) == epochs


@pytest.mark.parametrize(
    "model",
    ["gpt-4.1-mini-2025-04-14", "gpt-4.1-mini", "ft:gpt-4.1-mini-2025-04-14:fernleaf::abc123"],
)
def test_openai_models_by_snapshot_alias_or_fine_tune(model: str) -> None:
    facts = base_model_facts(model)
    assert facts.usd_per_million_training_tokens == 5.00
    assert facts.example_token_limit == 65_536


def test_an_alias_is_not_mistaken_for_a_longer_name() -> None:
    assert base_model_facts("gpt-4.1").usd_per_million_training_tokens == 25.00
    assert base_model_facts("gpt-4.1-nano").usd_per_million_training_tokens == 1.50


def test_open_weight_models_have_a_local_limit_and_no_price() -> None:
    facts = base_model_facts("Qwen/Qwen2.5-7B-Instruct")
    assert facts.example_token_limit == LOCAL_EXAMPLE_TOKEN_LIMIT
    assert facts.usd_per_million_training_tokens is None
    assert base_model_facts("Qwen/Qwen2.5-7B-Instruct", 2048).example_token_limit == 2048


def test_estimate() -> None:
    facts = base_model_facts("gpt-4o-mini-2024-07-18")
    estimate = estimate_training([50_000] * 40, facts)
    assert estimate.epochs == 3
    assert estimate.tokens_per_epoch == 2_000_000
    assert estimate.billed_tokens == 6_000_000
    assert estimate.usd == pytest.approx(18.0)
    # OpenAI cuts an over-long example to the limit; it bills what it trains on.
    assert estimate_training([100_000] * 40, facts).tokens_per_epoch == 40 * 65_536
    assert estimate_training([100] * 40, facts, epochs=7).billed_tokens == 28_000
    local = estimate_training([100], base_model_facts("llama-3.1-8b"))
    assert local.usd is None


def test_the_readmes_worked_example_as_people_read_it() -> None:
    # 100,000 tokens × 3 epochs at $0.008 / 1K tokens = $2.40.
    estimate = estimate_training([1_000] * 100, base_model_facts("gpt-3.5-turbo-0125"), epochs=3)
    assert estimate.describe("gpt-3.5-turbo-0125") == (
        "training gpt-3.5-turbo-0125 for 3 epochs × 100,000 tokens = "
        "300,000 billed tokens, about $2.40"
    )
    local = estimate_training([100], base_model_facts("llama-3.1-8b"))
    assert local.describe("llama-3.1-8b").endswith("no per-token price (self-hosted)")
