"""Merge a run's adapter into its base model, for servers without runtime LoRA:

    python -m curation.training.local.merge MODELS_DIR/<run> OUT_DIR

writes a plain model folder (weights with the adapter folded in, tokenizer and
chat template) that any OpenAI-compatible server can serve as a model of its own.
The base model is the one the run's metadata.json names.
"""

import json
import sys
from pathlib import Path


def merge_adapter(run_dir: Path, out_dir: Path) -> Path:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    metadata = json.loads((run_dir / "metadata.json").read_text(encoding="utf-8"))
    # The dtype the base was saved in: merging must not lose precision on the way.
    base = AutoModelForCausalLM.from_pretrained(metadata["base_model"], dtype="auto")
    merged = PeftModel.from_pretrained(base, str(run_dir)).merge_and_unload()
    out_dir.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(out_dir))
    AutoTokenizer.from_pretrained(str(run_dir)).save_pretrained(str(out_dir))
    return out_dir


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m curation.training.local.merge RUN_DIR OUT_DIR", file=sys.stderr)
        return 2
    run_dir, out_dir = Path(argv[0]), Path(argv[1])
    if not (run_dir / "metadata.json").is_file():
        print(f"{run_dir}: no metadata.json; give a finished run's folder", file=sys.stderr)
        return 2
    merge_adapter(run_dir, out_dir)
    print(f"merged model written to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
