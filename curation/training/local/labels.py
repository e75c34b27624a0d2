"""Token labels for supervised training: loss on assistant turns only, and never on
a turn the dataset marks `"weight": 0`.

TRL learns every assistant turn alike, so the labels are built here and handed to
SFTTrainer already tokenized. Which tokens belong to which assistant turn comes
from the model's own chat template: its `{% generation %}` markers when it has
them (the template author's own answer to "what does the assistant write"), and
otherwise by rendering the conversation up to each turn and finding where the
turn's text lies in the full rendering.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

IGNORE = -100  # what PyTorch's cross-entropy and TRL leave out of the loss

_GENERATION_MARKER = re.compile(r"\{%-?\s*generation\s*-?%\}")


class ChatTemplateError(ValueError):
    """The chat template cannot say which tokens an assistant turn is."""


@dataclass(frozen=True, slots=True)
class LabeledExample:
    input_ids: list[int]
    labels: list[int]

    @property
    def learned_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def label_conversation(tokenizer: Any, messages: Sequence[dict[str, Any]]) -> LabeledExample:
    """Input ids and labels for one chat example; labels are IGNORE except on
    assistant turns whose weight is not 0."""
    chat = [{"role": m["role"], "content": m["content"]} for m in messages]
    assistant = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    if uses_generation_markers(tokenizer):
        input_ids, spans = _marked_spans(tokenizer, chat, len(assistant))
    else:
        input_ids, spans = _rendered_spans(tokenizer, chat, assistant)
    labels = [IGNORE] * len(input_ids)
    for index, (start, end) in zip(assistant, spans, strict=True):
        if messages[index].get("weight", 1) == 0:
            continue
        labels[start:end] = input_ids[start:end]
    return LabeledExample(input_ids, labels)


def uses_generation_markers(tokenizer: Any) -> bool:
    template = getattr(tokenizer, "chat_template", None)
    return isinstance(template, str) and bool(_GENERATION_MARKER.search(template))


def _marked_spans(
    tokenizer: Any, chat: list[dict[str, str]], turns: int
) -> tuple[list[int], list[tuple[int, int]]]:
    rendered = tokenizer.apply_chat_template(
        chat, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    input_ids = list(rendered["input_ids"])
    spans = _runs(list(rendered["assistant_masks"]))
    if len(spans) != turns:
        raise ChatTemplateError(
            f"the chat template marks {len(spans)} assistant spans for {turns} assistant "
            "turns; fix its {% generation %} markers or remove them"
        )
    return input_ids, spans


def _rendered_spans(
    tokenizer: Any, chat: list[dict[str, str]], assistant: list[int]
) -> tuple[list[int], list[tuple[int, int]]]:
    text = tokenizer.apply_chat_template(chat, tokenize=False)
    char_spans = []
    for index in assistant:
        before = tokenizer.apply_chat_template(
            chat[:index], tokenize=False, add_generation_prompt=True
        )
        through = tokenizer.apply_chat_template(chat[: index + 1], tokenize=False)
        if not (text.startswith(before) and text.startswith(through)):
            raise ChatTemplateError(
                "the chat template renders earlier turns differently once later turns "
                "follow, so assistant turns cannot be located; use a template with "
                "{% generation %} markers"
            )
        char_spans.append((len(before), len(through)))
    if not getattr(tokenizer, "is_fast", False):
        raise ChatTemplateError("the base model's tokenizer has no fast version (offsets)")
    # The template writes the special tokens itself, as apply_chat_template does.
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offsets: list[tuple[int, int]] = encoded["offset_mapping"]
    spans = []
    for start_char, end_char in char_spans:
        inside = [i for i, (s, _) in enumerate(offsets) if start_char <= s < end_char]
        spans.append((inside[0], inside[-1] + 1) if inside else (0, 0))
    return list(encoded["input_ids"]), spans


def _runs(mask: list[int]) -> list[tuple[int, int]]:
    """[start, end) of each maximal run of 1s."""
    runs = []
    start = None
    for i, bit in enumerate([*mask, 0]):
        if bit and start is None:
            start = i
        elif not bit and start is not None:
            runs.append((start, i))
            start = None
    return runs
