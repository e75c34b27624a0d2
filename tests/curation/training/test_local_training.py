"""The local backend end to end: the real trainer process trains the tiny model on a
curated dataset version, the gate judges the adapter as the fake vLLM serves it,
and failed, killed and cancelled processes become failed or cancelled runs."""

import dataclasses
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from curation import Lifecycle
from curation.training.local.trainer import LocalTrainer
from storage import Store, TrainingRun
from tests.curation.lifecycle_harness import CHAT_MODEL, VOICE_GUIDE, answer_as
from tests.curation.training.local_harness import (
    drive_until_settled,
    local_lifecycle,
    seed_local_ratings,
)
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.vllm_api import FakeVllm


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        server.reply_with(answer_as("candidate"))
        yield server


@pytest.fixture
def vllm(tiny_model: Path) -> Iterator[FakeVllm]:
    with FakeVllm(base_model=str(tiny_model)) as server:
        answer = answer_as("live")  # "Live here. …"; the adapters answer as the candidate
        server.reply_with(lambda model, request: answer(request).replace("Live", "Candidate"))
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "voiceloop.db")
    store.deploy_configured(CHAT_MODEL, VOICE_GUIDE)
    seed_local_ratings(store)
    yield store
    store.close()


@pytest.fixture
def lifecycle(
    store: Store, openai_fake: FakeOpenAI, vllm: FakeVllm, tmp_path: Path, tiny_model: Path
) -> Lifecycle:
    return local_lifecycle(store, openai_fake, vllm, tmp_path, tiny_model)


def local_trainer(lifecycle: Lifecycle) -> LocalTrainer:
    trainer = lifecycle.backend.trainer
    assert isinstance(trainer, LocalTrainer)
    return trainer


def start(lifecycle: Lifecycle) -> TrainingRun:
    preview = lifecycle.preview()
    assert preview.dataset is not None
    return lifecycle.start(preview.dataset.id, "U1")


def test_a_run_trains_in_a_child_process_and_its_adapter_is_promoted(
    lifecycle: Lifecycle, store: Store, vllm: FakeVllm, tiny_model: Path
) -> None:
    preview = lifecycle.preview()
    assert preview.backend == "local" and preview.estimate.endswith("of GPU time")
    assert preview.dataset is not None
    train_lines = Path(preview.dataset.path, "train.jsonl").read_text(encoding="utf-8")
    assert '"weight":0' in train_lines  # earlier bot turns, which must not be learned
    run = lifecycle.start(preview.dataset.id, "U1")

    updates = drive_until_settled(lifecycle)

    assert updates[-1].kind == "promoted", [u.text for u in updates]
    done = store.run(run.id)
    assert done is not None and done.status == "promoted"
    run_dir = Path(str(done.trained_model))
    assert run_dir == (local_trainer(lifecycle).config.models_dir / str(run.id)).resolve()
    assert not (run_dir / "ref").exists()  # DPO's frozen reference is not kept
    # Served under a name of its own, from the folder the trainer wrote.
    live = store.live_deployment()
    assert live is not None
    assert (live.model, live.base_url) == (f"voiceloop-{run.id}", vllm.base_url)
    assert vllm.adapters == {f"voiceloop-{run.id}": str(run_dir)}
    # The candidate answered the gate's prompts from the server, under that name.
    chats = [c.json for c in vllm.calls_to("/v1/chat/completions") if c.json]
    assert chats and {c["model"] for c in chats} == {f"voiceloop-{run.id}"}

    # Training progress; the gate's own ("judged 6 of 6 prompts") is counted apart.
    progress = [
        e for e in store.run_events(run.id) if e.kind == "progress" and "judged" not in e.data
    ]
    assert progress and all(
        {"step", "loss", "epoch", "learning_rate"} <= set(e.data) for e in progress
    )
    assert {e.data["stage"] for e in progress} == {"sft", "dpo"}
    assert done.trained_tokens and done.metrics["train_loss"] > 0

    metadata = json.loads((run_dir / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["base_model"] == str(tiny_model)
    assert metadata["dataset_id"] == run.dataset_id and metadata["stages"] == ["sft", "dpo"]
    assert metadata["hyperparameters"]["rank"] == 4
    assert {"train_loss", "eval_loss", "dpo_train_loss"} <= set(metadata["metrics"])

    # The adapter and tokenizer files load on the base model and generate.
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(run_dir)
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), run_dir)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What should I bring?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=4, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]


def test_a_trainer_that_fails_is_a_failed_run_with_its_log(
    lifecycle: Lifecycle, store: Store, tiny_model: Path, tmp_path: Path
) -> None:
    # A base model folder without weights: the trainer starts, then cannot load it.
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    trainer = local_trainer(lifecycle)
    trainer.config = dataclasses.replace(trainer.config, base_model=str(broken))
    run = start(lifecycle)

    updates = drive_until_settled(lifecycle)

    failed = store.run(run.id)
    assert failed is not None and failed.status == "failed"
    assert failed.error is not None and "Last lines of" in failed.error
    assert "Traceback" in failed.error or "Error" in failed.error
    assert updates[-1].kind == "failed" and "live model is unchanged" in updates[-1].text
    live = store.live_deployment()
    assert live is not None and live.model == CHAT_MODEL


def test_a_killed_trainer_is_a_failed_run_even_after_a_restart(
    lifecycle: Lifecycle, store: Store, openai_fake: FakeOpenAI, vllm: FakeVllm,
    tmp_path: Path, tiny_model: Path,
) -> None:  # fmt: skip
    run = start(lifecycle)
    lifecycle.advance()  # submits: the trainer process starts
    submitted = store.run(run.id)
    assert submitted is not None and submitted.job_id
    pid = int(Path(submitted.job_id, "pid").read_text())
    # A bot restarted meanwhile knows the process only by its pid file.
    restarted = local_lifecycle(store, openai_fake, vllm, tmp_path, tiny_model)
    assert restarted.backend.trainer.poll(submitted).state == "running"

    os.killpg(pid, signal.SIGKILL)
    local_trainer(lifecycle)._processes._children[Path(submitted.job_id)].wait()
    status = restarted.backend.trainer.poll(submitted)
    assert status.state == "failed"
    assert status.error is not None and "stopped without finishing" in status.error
    # The bot that started it knows how it ended.
    drive_until_settled(lifecycle)
    failed = store.run(run.id)
    assert failed is not None and failed.status == "failed"
    assert failed.error is not None and "killed by signal 9" in failed.error


def test_cancel_stops_the_trainer_process(lifecycle: Lifecycle, store: Store) -> None:
    run = start(lifecycle)
    lifecycle.advance()
    submitted = store.run(run.id)
    assert submitted is not None and submitted.job_id
    pid = int(Path(submitted.job_id, "pid").read_text())

    cancelled = lifecycle.cancel(run.id, "U1")

    assert cancelled.status == "cancelled"
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert lifecycle.backend.trainer.poll(cancelled).state == "cancelled"
    time.sleep(0.1)
    assert lifecycle.advance() == []


def test_a_run_whose_folder_is_gone_fails_instead_of_stopping_the_flow(
    lifecycle: Lifecycle, store: Store
) -> None:
    run = start(lifecycle)
    lifecycle.advance()
    submitted = store.run(run.id)
    assert submitted is not None and submitted.job_id
    pid = int(Path(submitted.job_id, "pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    for name in ("job.json", "progress.jsonl"):
        Path(submitted.job_id, name).unlink(missing_ok=True)

    drive_until_settled(lifecycle)

    failed = store.run(run.id)
    assert failed is not None and failed.status == "failed"
    assert failed.error is not None and "is gone or damaged" in failed.error
