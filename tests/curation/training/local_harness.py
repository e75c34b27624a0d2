"""A store with rated replies, the fake OpenAI (live model and judge), a fake vLLM
(candidate adapters) and a Lifecycle on the local backend, training the tiny model."""

import time
from pathlib import Path

from curation import (
    CurationConfig,
    Endpoint,
    Endpoints,
    GateConfig,
    Lifecycle,
    LifecycleConfig,
    LocalTrainerConfig,
    LoraHyperparameters,
    RunUpdate,
    build_backend,
)
from storage import ChatTurn, Reply, Store
from tests.curation.dataset.factories import distinct
from tests.curation.lifecycle_harness import CHAT_MODEL, SHORT_PROMPT, VOICE_GUIDE
from tests.fakes.openai_api import DEFAULT_API_KEY, FakeOpenAI
from tests.fakes.vllm_api import DEFAULT_API_KEY as VLLM_KEY
from tests.fakes.vllm_api import FakeVllm

# Short runs: one epoch, small batches, DPO from a handful of pairs.
HYPERPARAMETERS = LoraHyperparameters(
    rank=4, alpha=8, epochs=1, batch_size=4, gradient_accumulation=1, max_seq_length=256,
    dpo_min_pairs=2,
)  # fmt: skip


def seed_local_ratings(store: Store, n: int = 30, corrections: int = 8) -> None:
    """Replies in threads where the bot spoke before (those turns get weight 0),
    each with a good vote; the first `corrections` also get a better reply, so
    there are preference pairs."""
    for i in range(n):
        ts = f"{2000 + i}.000100"
        context = (
            ChatTurn("user", f"Hi, planning trip {i}."),
            ChatTurn("assistant", f"Great, where to for trip {i}?"),
        )
        store.save_reply(
            Reply(
                channel="C1",
                ts=ts,
                thread_ts=f"{2000 + i}.000001",
                text=distinct(i),
                question=f"What should I bring for trip {i}?",
                context=context,
                created_at=f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}.000+00:00",
            )
        )
        store.record_vote("C1", ts, "U1", 1, "reaction:+1")
        if i < corrections:
            store.save_correction("C1", ts, "U2", distinct(i + 500))


def local_lifecycle(
    store: Store,
    openai_fake: FakeOpenAI,
    vllm: FakeVllm,
    tmp_path: Path,
    base_model: Path,
    hyperparameters: LoraHyperparameters = HYPERPARAMETERS,
) -> Lifecycle:
    endpoints = Endpoints(
        Endpoint(openai_fake.base_url, DEFAULT_API_KEY),
        (Endpoint(vllm.base_url, VLLM_KEY),),
        max_retries=0,
        timeout=10,
    )
    config = LifecycleConfig(
        curation=CurationConfig(
            system_prompt=SHORT_PROMPT, base_model=str(base_model), validation_share=0.3
        ),
        dataset_dir=tmp_path / "datasets",
        gate=GateConfig(judge_model=CHAT_MODEL, voice_guide=VOICE_GUIDE, max_prompts=6),
        poll_seconds=0.001,
    )
    trainer = LocalTrainerConfig(
        base_model=str(base_model),
        models_dir=tmp_path / "models",
        hyperparameters=hyperparameters,
        serve_base_url=vllm.base_url,
    )
    return Lifecycle(store, config, build_backend(trainer, endpoints), endpoints)


def drive_until_settled(lifecycle: Lifecycle, timeout: float = 120.0) -> list[RunUpdate]:
    """Advance until no run is in flight, waiting for the trainer process."""
    updates: list[RunUpdate] = []
    deadline = time.monotonic() + timeout
    while lifecycle.store.run_in_flight() is not None:
        assert time.monotonic() < deadline, "the run did not settle in time"
        updates += lifecycle.advance()
        time.sleep(0.1)
    return updates
