"""Promotion, switch and rollback of local runs' adapters on a fake vLLM server.

The runs here finished training already (their adapter folders are made by the
test), so these tests exercise serving alone, through the real Lifecycle."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from curation import Lifecycle, TrainingRefusedError
from storage import Store, TrainingRun
from tests.curation.lifecycle_harness import CHAT_MODEL, VOICE_GUIDE, answer_as
from tests.curation.training.local_harness import local_lifecycle, seed_local_ratings
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.vllm_api import FakeVllm


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        server.reply_with(answer_as("live"))
        yield server


@pytest.fixture
def vllm() -> Iterator[FakeVllm]:
    with FakeVllm() as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "voiceloop.db")
    store.deploy_configured(CHAT_MODEL, VOICE_GUIDE)
    seed_local_ratings(store)
    yield store
    store.close()


@pytest.fixture
def lifecycle(store: Store, openai_fake: FakeOpenAI, vllm: FakeVllm, tmp_path: Path) -> Lifecycle:
    # The base model is never loaded here: nothing trains.
    return local_lifecycle(store, openai_fake, vllm, tmp_path, tmp_path / "base")


def trained_run(lifecycle: Lifecycle, store: Store, tmp_path: Path) -> TrainingRun:
    """A run the gate held, with an adapter folder as the trainer leaves it."""
    preview = lifecycle.preview()
    assert preview.dataset is not None
    run = lifecycle.start(preview.dataset.id, "U1")
    folder = tmp_path / "models" / str(run.id)
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text("{}", encoding="utf-8")
    held = store.update_run(run.id, status="held", trained_model=str(folder))
    assert held is not None
    return held


def test_promotion_switches_and_keeps_the_previous_adapter_for_rollback(
    lifecycle: Lifecycle, store: Store, vllm: FakeVllm, tmp_path: Path
) -> None:
    first = trained_run(lifecycle, store, tmp_path)
    lifecycle.promote_anyway(first.id, "U1")
    second = trained_run(lifecycle, store, tmp_path)
    lifecycle.promote_anyway(second.id, "U1")
    live = store.live_deployment()
    assert live is not None and (live.model, live.base_url) == ("voiceloop-2", vllm.base_url)
    assert set(vllm.adapters) == {"voiceloop-1", "voiceloop-2"}

    third = trained_run(lifecycle, store, tmp_path)
    lifecycle.promote_anyway(third.id, "U1")
    # The live and the previous adapter stay; older ones are unloaded.
    assert set(vllm.adapters) == {"voiceloop-2", "voiceloop-3"}
    assert [c.json for c in vllm.calls_to("/v1/unload_lora_adapter")] == [
        {"lora_name": "voiceloop-1"}
    ]

    loads = len(vllm.calls_to("/v1/load_lora_adapter"))
    restored = lifecycle.rollback("U1")
    assert (restored.model, restored.run_id) == ("voiceloop-2", second.id)
    assert len(vllm.calls_to("/v1/load_lora_adapter")) == loads  # instant: already loaded


def test_rollback_after_a_server_restart_loads_the_adapter_again(
    lifecycle: Lifecycle, store: Store, vllm: FakeVllm, tmp_path: Path
) -> None:
    first = trained_run(lifecycle, store, tmp_path)
    lifecycle.promote_anyway(first.id, "U1")
    second = trained_run(lifecycle, store, tmp_path)
    lifecycle.promote_anyway(second.id, "U1")
    vllm.restart()

    lifecycle.rollback("U1")

    assert set(vllm.adapters) == {"voiceloop-1"}


def test_a_load_that_fails_leaves_the_live_deployment_alone(
    lifecycle: Lifecycle, store: Store, vllm: FakeVllm, tmp_path: Path
) -> None:
    first = trained_run(lifecycle, store, tmp_path)
    lifecycle.promote_anyway(first.id, "U1")
    before = store.live_deployment()
    second = trained_run(lifecycle, store, tmp_path)
    vllm.fail_next_load(400, "Loading lora voiceloop-2 failed: rank 64 > max_lora_rank 16")

    with pytest.raises(TrainingRefusedError, match="max_lora_rank"):
        lifecycle.promote_anyway(second.id, "U1")

    assert store.live_deployment() == before
    assert set(vllm.adapters) == {"voiceloop-1"}
    still = store.run(second.id)
    assert still is not None and still.status == "held"


def test_the_gate_judges_the_candidate_as_the_server_serves_it(
    lifecycle: Lifecycle, store: Store, vllm: FakeVllm, tmp_path: Path
) -> None:
    vllm.reply_with(lambda model, request: "Candidate here. Pack light.")
    run = trained_run(lifecycle, store, tmp_path)
    store.update_run(run.id, status="evaluating")

    updates = lifecycle.advance()

    # The judge prefers the live model here: held, with the candidate still loaded
    # for Promote anyway.
    assert [u.kind for u in updates] == ["held"]
    chats = [c.json for c in vllm.calls_to("/v1/chat/completions") if c.json]
    assert chats and {c["model"] for c in chats} == {"voiceloop-1"}
    assert "voiceloop-1" in vllm.adapters
    live = store.live_deployment()
    assert live is not None and live.model == CHAT_MODEL
