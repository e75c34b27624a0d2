"""The trainer process: LoRA supervised training (then DPO when there are enough
preference pairs) on one dataset version, run as

    python -m curation.training.local.worker RUN_DIR/job.json

or under `accelerate launch -m curation.training.local.worker ...` for more GPUs.
This is the only module that imports torch; the bot starts it as a child process
and reads what it writes beside job.json: progress.jsonl, then the adapter,
tokenizer files and metadata.json.
"""

import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

from curation.training.local.job import LocalJob, read_job
from curation.training.local.labels import label_conversation
from curation.training.local.progress import ProgressWriter

TRAIN = "train.jsonl"
VALIDATION = "validation.jsonl"
DPO_TRAIN = "dpo_train.jsonl"
DPO_VALIDATION = "dpo_validation.jsonl"
# The name DPOTrainer gives the frozen copy of the adapter it trains against
# (and the folder it is saved in beside the trained one).
_REFERENCE = "ref"
_STAGE_NAMES = {"sft": "supervised", "dpo": "DPO"}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m curation.training.local.worker RUN_DIR/job.json", file=sys.stderr)
        return 2
    job = read_job(Path(argv[0]))
    # Under accelerate every process trains; only the first one reports.
    progress = ProgressWriter(job.progress_path) if _is_main_process() else None
    try:
        outcome = train(job, progress)
    except Exception as e:
        traceback.print_exc()
        if progress is not None:
            progress.write("failed", _failure_message(e))
        return 1
    if progress is not None:
        progress.write("done", "training finished", **outcome)
        progress.close()
    return 0


def train(job: LocalJob, progress: ProgressWriter | None) -> dict[str, object]:
    hp = job.hyperparameters
    report = progress.write if progress is not None else _quiet
    report("status", f"loading {job.base_model}")
    torch.manual_seed(hp.seed)
    tokenizer = AutoTokenizer.from_pretrained(job.base_model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    model = AutoModelForCausalLM.from_pretrained(
        job.base_model, dtype=torch.bfloat16 if bf16 else torch.float32
    )

    train_set = _sft_dataset(tokenizer, job.dataset_dir / TRAIN)
    validation_set = _sft_dataset(tokenizer, job.dataset_dir / VALIDATION)
    if train_set is None:
        raise ValueError(f"{job.dataset_dir / TRAIN}: no training examples")
    epochs = hp.epochs or job.epochs
    lora = LoraConfig(
        r=hp.rank,
        lora_alpha=hp.alpha,
        lora_dropout=hp.dropout,
        target_modules=hp.peft_target_modules(),
        task_type="CAUSAL_LM",
    )
    recorder = _ProgressCallback(progress, "sft")
    sft = SFTTrainer(
        model=model,
        args=SFTConfig(
            max_length=hp.max_seq_length,
            **_common_args(job, epochs, hp.learning_rate, bf16),
        ),
        train_dataset=train_set,
        eval_dataset=validation_set,
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=[recorder],
    )
    report("status", f"supervised training: {len(train_set)} examples, {epochs} epochs")
    result = sft.train()
    runtime = float(result.metrics.get("train_runtime", 0.0))
    metrics: dict[str, float] = {
        "train_loss": float(result.training_loss),
        "train_seconds": runtime,
        "train_tokens_per_second": recorder.tokens / runtime if runtime else 0.0,
    }
    if validation_set is not None:
        metrics["eval_loss"] = float(sft.evaluate()["eval_loss"])
    trained_tokens = recorder.tokens
    stages = ["sft"]
    final: Any = sft

    pairs = _dpo_dataset(job.dataset_dir / DPO_TRAIN)
    if pairs is not None and len(pairs) >= hp.dpo_min_pairs:
        report("status", f"preference training (DPO): {len(pairs)} pairs")
        final = _dpo(job, sft.model, tokenizer, pairs, epochs, bf16, progress, metrics)
        stages.append("dpo")

    metrics["peak_memory_mb"] = _peak_memory_mb()
    report("status", "saving the adapter")
    # The trainer saves: under FSDP it gathers the sharded adapter first. The
    # trained adapter lands at the top of the folder, DPO's frozen copy under ref/.
    final.save_model(str(job.run_dir))
    if _is_main_process():
        shutil.rmtree(job.run_dir / _REFERENCE, ignore_errors=True)
        # Nothing is checkpointed (save_strategy "no"); the folder is the trainers' default.
        shutil.rmtree(job.run_dir / "checkpoints", ignore_errors=True)
        tokenizer.save_pretrained(str(job.run_dir))
        _write_metadata(job, epochs, stages, metrics, trained_tokens)
    return {"trained_tokens": trained_tokens, "metrics": metrics, "stages": stages}


def _dpo(
    job: LocalJob,
    peft_model: Any,
    tokenizer: Any,
    pairs: Dataset,
    epochs: int,
    bf16: bool,
    progress: ProgressWriter | None,
    metrics: dict[str, float],
) -> Any:
    """DPO on the supervised adapter; returns the trainer. Handed a PEFT model,
    TRL copies its adapter into a frozen one named "ref" as the reference, so
    preferences refine what supervised training taught rather than pulling
    towards the base model."""
    hp = job.hyperparameters
    validation = _dpo_dataset(job.dataset_dir / DPO_VALIDATION)
    recorder = _ProgressCallback(progress, "dpo")
    dpo = DPOTrainer(
        model=peft_model,
        args=DPOConfig(
            beta=hp.dpo_beta,
            max_length=hp.max_seq_length,
            **_common_args(job, epochs, hp.dpo_learning_rate, bf16),
        ),
        train_dataset=pairs,
        eval_dataset=validation,
        processing_class=tokenizer,
        callbacks=[recorder],
    )
    result = dpo.train()
    metrics["dpo_train_loss"] = float(result.training_loss)
    if validation is not None:
        for key, value in dpo.evaluate().items():
            if key in ("eval_loss", "eval_rewards/accuracies", "eval_rewards/margins"):
                metrics["dpo_" + key] = float(value)
    return dpo


def _common_args(job: LocalJob, epochs: int, learning_rate: float, bf16: bool) -> dict[str, Any]:
    hp = job.hyperparameters
    return {
        "output_dir": str(job.run_dir / "checkpoints"),
        "num_train_epochs": epochs,
        "per_device_train_batch_size": hp.batch_size,
        "per_device_eval_batch_size": hp.batch_size,
        "gradient_accumulation_steps": hp.gradient_accumulation,
        "learning_rate": learning_rate,
        "lr_scheduler_type": "cosine",
        "warmup_steps": 0.03,
        # About 100 progress lines a stage, every step for short runs.
        "logging_steps": 0.01,
        "save_strategy": "no",
        "eval_strategy": "no",
        "report_to": [],
        "bf16": bf16,
        "seed": hp.seed,
        "disable_tqdm": True,
    }


def _sft_dataset(tokenizer: Any, path: Path) -> Dataset | None:
    rows = []
    for line in _jsonl(path):
        example = label_conversation(tokenizer, line["messages"])
        if example.learned_tokens:
            rows.append({"input_ids": example.input_ids, "labels": example.labels})
    return Dataset.from_list(rows) if rows else None


def _dpo_dataset(path: Path) -> Dataset | None:
    """OpenAI's preference lines as TRL's conversational prompt / chosen / rejected."""
    rows = [
        {
            "prompt": [
                {"role": m["role"], "content": m["content"]} for m in line["input"]["messages"]
            ],
            "chosen": line["preferred_output"],
            "rejected": line["non_preferred_output"],
        }
        for line in _jsonl(path)
    ]
    return Dataset.from_list(rows) if rows else None


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class _ProgressCallback(TrainerCallback):  # type: ignore[misc]
    """Turns the trainer's log calls into progress lines with tokens per second."""

    def __init__(self, progress: ProgressWriter | None, stage: str) -> None:
        self._progress = progress
        self._stage = stage
        self._since = time.perf_counter()
        self._tokens_then = 0
        self.tokens = 0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._since = time.perf_counter()

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any
    ) -> None:
        if not logs or "loss" not in logs:
            return
        now = time.perf_counter()
        self.tokens = int(logs.get("num_tokens", self.tokens))
        rate = (self.tokens - self._tokens_then) / max(now - self._since, 1e-9)
        self._since, self._tokens_then = now, self.tokens
        if self._progress is None:
            return
        epoch = float(logs.get("epoch", state.epoch or 0))
        self._progress.write(
            "progress",
            f"{_STAGE_NAMES[self._stage]} step {state.global_step}/{state.max_steps}: "
            f"loss {logs['loss']:.4f}, {rate:,.0f} tokens/s",
            stage=self._stage,
            step=state.global_step,
            max_steps=state.max_steps,
            epoch=round(epoch, 4),
            loss=float(logs["loss"]),
            learning_rate=float(logs.get("learning_rate", 0.0)),
            tokens_per_second=round(rate, 1),
        )


def _write_metadata(
    job: LocalJob, epochs: int, stages: list[str], metrics: dict[str, float], trained_tokens: int
) -> None:
    import peft
    import transformers
    import trl

    metadata = {
        "run_id": job.run_id,
        "base_model": job.base_model,
        "dataset_id": job.dataset_id,
        "dataset_dir": str(job.dataset_dir),
        "epochs": epochs,
        "stages": stages,
        "hyperparameters": job.hyperparameters.as_json(),
        "metrics": metrics,
        "trained_tokens": trained_tokens,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
            "trl": trl.__version__,
        },
    }
    tmp = job.metadata_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    tmp.replace(job.metadata_path)


def _failure_message(error: Exception) -> str:
    if isinstance(error, torch.cuda.OutOfMemoryError):
        return (
            "out of GPU memory; lower VOICELOOP_LORA_BATCH_SIZE or VOICELOOP_LORA_MAX_SEQ_LENGTH "
            "(raise VOICELOOP_LORA_GRADIENT_ACCUMULATION to keep the effective batch)"
        )
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:500]}" if text else type(error).__name__


def _peak_memory_mb() -> float:
    """GPU memory the run held at its peak; on the CPU, the process's peak RSS."""
    if torch.cuda.is_available():
        return float(torch.cuda.max_memory_allocated()) / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"


def _quiet(kind: str, message: str, **data: object) -> None:
    pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
