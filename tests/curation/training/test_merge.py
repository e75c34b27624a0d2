"""The fallback for servers without runtime LoRA: the adapter merged into the base
weights answers exactly as base + adapter does."""

import json
from pathlib import Path

from curation.training.local.merge import main


def test_a_merged_model_computes_what_base_plus_adapter_does(
    tiny_model: Path, tmp_path: Path
) -> None:
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    # Random (not zero) LoRA weights, so merging changes the model.
    lora = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False)
    adapted = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model), lora)
    run_dir = tmp_path / "run"
    adapted.save_pretrained(run_dir)
    (run_dir / "metadata.json").write_text(json.dumps({"base_model": str(tiny_model)}))
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        (run_dir / name).write_bytes((tiny_model / name).read_bytes())

    assert main([str(run_dir), str(tmp_path / "merged")]) == 0

    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    reference = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), run_dir)
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    ids = torch.tensor([[1, 5, 9, 42, 7, 3]])
    with torch.no_grad():
        expected = reference(input_ids=ids).logits
        assert torch.allclose(merged(input_ids=ids).logits, expected, atol=1e-5)
        assert not torch.allclose(base(input_ids=ids).logits, expected, atol=1e-3)
    assert (tmp_path / "merged" / "tokenizer.json").is_file()


def test_a_folder_without_a_finished_run_is_refused(tmp_path: Path) -> None:
    assert main([str(tmp_path), str(tmp_path / "out")]) == 2
