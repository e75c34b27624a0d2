"""Training throughput of the local trainer against a plain TRL script, in one run.

The same randomly initialised Qwen2 model, the same curated-format chat data and
the same LoRA and trainer settings are trained twice, each in a fresh process:
once through voiceloop's trainer process (labels built from the chat template,
weight-0 turns masked), once by a plain TRL script written below
(`assistant_only_loss=True` on the `messages` column). Prints tokens per second
and peak memory (GPU memory on a GPU, peak RSS on the CPU) for both, and their
ratio; the target is voiceloop within 10% of plain TRL.

    python bench/train_local.py [--shape small|1b] [--examples N] [--rounds R]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from curation.training.local.hyperparameters import LoraHyperparameters  # noqa: E402
from curation.training.local.job import LocalJob  # noqa: E402
from tests.curation.training.tiny_model import ModelShape, build_tiny_model  # noqa: E402

SHAPES = {
    # Seconds per round on two CPU cores.
    "small": ModelShape(hidden=256, layers=4, heads=4, kv_heads=2, intermediate=688, vocab=2000),
    # About 1.3 B parameters (Qwen2-1.5B's body with a small vocabulary), for a GPU.
    "1b": ModelShape(hidden=1536, layers=28, heads=12, kv_heads=2, intermediate=8960, vocab=8000),
}
SYSTEM = "You are Brightside, the assistant for Fernleaf Outdoor Co. Answer in Fernleaf's voice."
_TOPICS = ["tents", "boots", "returns", "hours", "rain shells", "stoves", "maps", "trail food"]
_WORDS = [
    "pack",
    "layers",
    "water",
    "headlamp",
    "trail",
    "map",
    "ridge",
    "creek",
    "camp",
    "stove",
    "socks",
    "boots",
    "wool",
    "rain",
    "shell",
    "tent",
    "footprint",
    "stakes",
    "cedar",
    "fern",
    "bluff",
    "otter",
    "mill",
    "loop",
    "summit",
    "dawn",
    "dusk",
]


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def write_dataset(folder: Path, examples: int) -> list[str]:
    """train.jsonl as curation writes it: an earlier bot turn with weight 0, then the reply."""
    rng = random.Random(7)
    lines, corpus = [], [SYSTEM]
    for i in range(examples):
        topic = _TOPICS[i % len(_TOPICS)]
        earlier = " ".join(sentence(rng, 12) for _ in range(3))
        reply = " ".join(sentence(rng, 14) for _ in range(5))
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Quick question about {topic}: what do you suggest?"},
            {"role": "assistant", "content": earlier, "weight": 0},
            {"role": "user", "content": f"And for a wet weekend, {sentence(rng, 6)}"},
            {"role": "assistant", "content": reply},
        ]
        lines.append(json.dumps({"messages": messages}))
        corpus += [earlier, reply]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return corpus


def run_voiceloop(job: LocalJob) -> dict[str, float]:
    job.write()
    command = [sys.executable, "-m", "curation.training.local.worker", str(job.job_path)]
    _run(command, job.run_dir / "train.log")
    metrics = json.loads(job.metadata_path.read_text(encoding="utf-8"))["metrics"]
    return {
        "tokens_per_second": metrics["train_tokens_per_second"],
        "peak_memory_mb": metrics["peak_memory_mb"],
    }


def run_plain(job: LocalJob) -> dict[str, float]:
    spec = job.run_dir.with_name(job.run_dir.name + "-plain.json")
    spec.write_text(json.dumps(job.as_json()), encoding="utf-8")
    out = job.run_dir.with_name(job.run_dir.name + "-plain.out.json")
    _run([sys.executable, __file__, "--plain-trl", str(spec), str(out)], out.with_suffix(".log"))
    result: dict[str, float] = json.loads(out.read_text(encoding="utf-8"))
    return result


def _run(command: list[str], log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as f:
        code = subprocess.call(command, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    if code:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"{command[2]} failed ({code}):\n{tail}")


def plain_trl(spec_path: Path, out_path: Path) -> None:
    """The plain TRL script: what a team would write without voiceloop."""
    import resource

    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    hp = spec["hyperparameters"]
    torch.manual_seed(hp["seed"])
    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    tokenizer = AutoTokenizer.from_pretrained(spec["base_model"])
    model = AutoModelForCausalLM.from_pretrained(
        spec["base_model"], dtype=torch.bfloat16 if bf16 else torch.float32
    )
    data = load_dataset("json", data_files=str(Path(spec["dataset_dir"]) / "train.jsonl"))
    # TRL has no per-message weight; it learns every assistant turn.
    train = data["train"].map(
        lambda row: {
            "messages": [{"role": m["role"], "content": m["content"]} for m in row["messages"]]
        }
    )
    args = SFTConfig(
        output_dir=str(Path(spec["run_dir"]) / "plain-checkpoints"),
        num_train_epochs=spec["epochs"],
        per_device_train_batch_size=hp["batch_size"],
        gradient_accumulation_steps=hp["gradient_accumulation"],
        learning_rate=hp["learning_rate"],
        lr_scheduler_type="cosine",
        warmup_steps=0.03,
        logging_steps=0.01,
        save_strategy="no",
        report_to=[],
        bf16=bf16,
        seed=hp["seed"],
        disable_tqdm=True,
        max_length=hp["max_seq_length"],
        assistant_only_loss=True,
    )
    lora = LoraConfig(
        r=hp["rank"],
        lora_alpha=hp["alpha"],
        lora_dropout=hp["dropout"],
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=train, processing_class=tokenizer, peft_config=lora
    )
    result = trainer.train()
    tokens = max(int(log.get("num_tokens", 0)) for log in trainer.state.log_history)
    if torch.cuda.is_available():
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"tokens_per_second": tokens / result.metrics["train_runtime"], "peak_memory_mb": peak}
    out_path.write_text(json.dumps(out), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default=None)
    parser.add_argument("--examples", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--plain-trl", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain_trl:
        plain_trl(*args.plain_trl)
        return

    import torch

    gpu = torch.cuda.is_available()
    shape_name = args.shape or ("1b" if gpu else "small")
    device = torch.cuda.get_device_name() if gpu else f"CPU ({os.cpu_count()} cores)"
    with tempfile.TemporaryDirectory(prefix="voiceloop-bench-") as tmp:
        root = Path(tmp)
        corpus = write_dataset(root / "dataset", args.examples)
        model = build_tiny_model(root / "model", shape=SHAPES[shape_name], corpus=corpus, bf16=gpu)
        hp = LoraHyperparameters(batch_size=args.batch_size, gradient_accumulation=1)
        results: dict[str, list[dict[str, float]]] = {"voiceloop": [], "plain TRL": []}
        for round_ in range(args.rounds):
            job = LocalJob(
                run_id=round_,
                dataset_id="bench",
                dataset_dir=root / "dataset",
                base_model=str(model),
                run_dir=root / f"run-{round_}",
                epochs=args.epochs,
                hyperparameters=hp,
            )
            # Alternate who goes first, so warm caches favour neither.
            order = [run_voiceloop, run_plain] if round_ % 2 == 0 else [run_plain, run_voiceloop]
            for runner in order:
                name = "voiceloop" if runner is run_voiceloop else "plain TRL"
                results[name].append(runner(job))
    report(results, shape_name, device, args)


def report(results: dict[str, list[dict[str, float]]], shape: str, device: str, args: Any) -> None:
    best = {
        name: max(rounds, key=lambda r: r["tokens_per_second"]) for name, rounds in results.items()
    }
    print(
        f"{device}, shape {shape}, {args.examples} examples × {args.epochs} epoch(s), "
        f"batch {args.batch_size}, best of {args.rounds} rounds"
    )
    print(f"{'':12} {'tokens/s':>10} {'peak MB':>10}")
    for name, figures in best.items():
        print(f"{name:12} {figures['tokens_per_second']:>10.0f} {figures['peak_memory_mb']:>10.0f}")
    ours, plain = best["voiceloop"], best["plain TRL"]
    speed = ours["tokens_per_second"] / plain["tokens_per_second"]
    memory = ours["peak_memory_mb"] / plain["peak_memory_mb"]
    print(
        f"ratio voiceloop / plain TRL: tokens/s {speed:.3f}, peak memory {memory:.3f} "
        "(target: tokens/s ≥ 0.90)"
    )


if __name__ == "__main__":
    main()
