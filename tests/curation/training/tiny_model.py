"""A tiny randomly initialised causal LM and a tokenizer trained here, saved as a
model folder: what the local trainer's tests train on, with nothing downloaded."""

from dataclasses import dataclass
from pathlib import Path

# ChatML, with {% generation %} markers so transformers can say which tokens the
# assistant wrote. trim_blocks eats a newline after a tag, hence {{ '\n' }}.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['role'] == 'assistant' %}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\n' }}"
    "{% else %}{{ message['content'] + '<|im_end|>' + '\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# The same rendering without the markers, as most released models ship it.
PLAIN_CHAT_TEMPLATE = CHAT_TEMPLATE.replace("{% generation %}", "").replace(
    "{% endgeneration %}", ""
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_CORPUS = [
    "You are Brightside, the assistant for Fernleaf Outdoor Co.",
    "How do I return a tent? Pack it up and bring it to any store within 60 days.",
    "What are your opening hours? We open at nine and close at six, every day.",
    "Thanks! Happy trails, and see you on the trail soon.",
    "system user assistant",
]


@dataclass(frozen=True)
class ModelShape:
    hidden: int = 32
    layers: int = 2
    heads: int = 2
    kv_heads: int = 1
    intermediate: int = 64
    vocab: int = 400


TINY = ModelShape()


def build_tiny_model(
    folder: Path,
    chat_template: str = CHAT_TEMPLATE,
    shape: ModelShape = TINY,
    corpus: list[str] | None = None,
    bf16: bool = False,
) -> Path:
    """A randomly initialised Qwen2 model of `shape` and a BPE tokenizer trained on
    `corpus` (a few brand-voice sentences by default), saved as a model folder."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=shape.vocab,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus or _CORPUS * 20, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=chat_template,
    )
    config = Qwen2Config(
        vocab_size=len(fast),
        hidden_size=shape.hidden,
        intermediate_size=shape.intermediate,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.kv_heads,
        max_position_embeddings=4096,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    import torch

    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config)
    if bf16:
        model = model.to(torch.bfloat16)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder
