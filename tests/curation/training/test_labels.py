"""Loss only on assistant turns, and never on a `"weight": 0` turn."""

from pathlib import Path
from typing import Any

import pytest

from curation.training.local.labels import (
    IGNORE,
    ChatTemplateError,
    label_conversation,
    uses_generation_markers,
)

SYSTEM = {"role": "system", "content": "You are Brightside."}


def conversation(earlier: str = "Bring it to any store.", weight: int = 0) -> list[dict[str, Any]]:
    """A curated example: an earlier bot turn (never rated, weight 0), then the reply."""
    return [
        SYSTEM,
        {"role": "user", "content": "How do I return a tent?"},
        {"role": "assistant", "content": earlier, "weight": weight},
        {"role": "user", "content": "Thanks! What are your hours?"},
        {"role": "assistant", "content": "We open at nine and close at six."},
    ]


def learned_text(tokenizer: Any, messages: list[dict[str, Any]]) -> str:
    example = label_conversation(tokenizer, messages)
    return str(tokenizer.decode([t for t in example.labels if t != IGNORE]))


@pytest.fixture(params=["markers", "rendered"])
def tokenizer(request: pytest.FixtureRequest, tiny_tokenizer: Any, plain_tokenizer: Any) -> Any:
    return tiny_tokenizer if request.param == "markers" else plain_tokenizer


def test_both_ways_of_finding_turns_are_exercised(
    tiny_tokenizer: Any, plain_tokenizer: Any
) -> None:
    assert uses_generation_markers(tiny_tokenizer)
    assert not uses_generation_markers(plain_tokenizer)


def test_only_the_rated_assistant_turn_is_learned(tokenizer: Any) -> None:
    learned = learned_text(tokenizer, conversation())
    # The reply and its end-of-turn token; nothing from the system, user or weight-0 turns.
    assert learned.startswith("We open at nine and close at six.<|im_end|>")
    assert "tent" not in learned and "store" not in learned and "Brightside" not in learned


def test_a_weighted_earlier_turn_is_learned_too(tokenizer: Any) -> None:
    learned = learned_text(tokenizer, conversation(weight=1))
    assert "Bring it to any store.<|im_end|>" in learned
    assert "We open at nine" in learned


def test_input_ids_are_the_chat_templates_rendering(tokenizer: Any) -> None:
    messages = conversation()
    example = label_conversation(tokenizer, messages)
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    assert example.input_ids == list(
        tokenizer.apply_chat_template(plain, return_dict=True)["input_ids"]
    )
    assert len(example.labels) == len(example.input_ids)


def test_a_weight_0_turn_adds_no_loss(tiny_model: Path, tiny_tokenizer: Any) -> None:
    """The weight-0 turn comes last here, so nothing after it reads its content:
    whatever it says, the loss is the same; learned (weight 1), it changes the loss."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    model.eval()

    def loss(last: str, weight: int) -> float:
        messages = [
            *conversation(weight=1)[:3],
            {"role": "assistant", "content": last, "weight": weight},
        ]
        messages.insert(3, {"role": "user", "content": "And the hours?"})
        example = label_conversation(tiny_tokenizer, messages)
        with torch.no_grad():
            out = model(
                input_ids=torch.tensor([example.input_ids]),
                labels=torch.tensor([example.labels]),
            )
        return float(out.loss)

    unlearned = {loss(text, 0) for text in ("Nine to six.", "WE NEVER CLOSE!!! " * 5)}
    assert len(unlearned) == 1
    assert loss("Nine to six.", 1) != loss("WE NEVER CLOSE!!! " * 5, 1)


def test_a_template_that_rewrites_earlier_turns_is_refused(plain_tokenizer: Any) -> None:
    tokenizer = type(plain_tokenizer).from_pretrained(plain_tokenizer.name_or_path)
    # Like templates that drop earlier reasoning: what a turn renders as depends on
    # whether more turns follow.
    tokenizer.chat_template = (
        "{% for m in messages %}{% if loop.last or m['role'] != 'assistant' %}"
        "{{ m['role'] + ': ' + m['content'] + '\n' }}{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}"
    )
    with pytest.raises(ChatTemplateError, match="renders earlier turns differently"):
        label_conversation(tokenizer, conversation())
