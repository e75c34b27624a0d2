"""The retrain flow against the stateful fake OpenAI: train, gate, promote, hold, fail, resume."""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from curation import Lifecycle, LifecycleError
from storage import RunInFlightError, Store
from tests.curation.lifecycle_harness import (
    BASE_MODEL,
    CHAT_MODEL,
    SHORT_PROMPT,
    VOICE_GUIDE,
    answer_as,
    drive,
    make_lifecycle,
    seed_ratings,
    started,
)
from tests.fakes.openai_api import FakeOpenAI


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        server.reply_with(answer_as("candidate"))
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "voiceloop.db")
    store.deploy_configured(CHAT_MODEL, VOICE_GUIDE)
    seed_ratings(store)
    yield store
    store.close()


def test_a_run_that_wins_the_gate_is_promoted_with_the_short_prompt(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.hold_jobs(2)
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    run = started(lifecycle)
    updates = drive(lifecycle)

    assert [u.kind for u in updates][-1] == "promoted"
    done = store.run(run.id)
    assert done is not None and done.status == "promoted" and done.decision == "promote"
    assert done.win_rate == 1.0 and done.flip_rate == 0.0
    live = store.live_deployment()
    assert live is not None and live.model == done.trained_model
    assert store.prompt(live.prompt_id).content == SHORT_PROMPT
    assert (live.run_id, live.dataset_id, live.base_url) == (run.id, run.dataset_id, None)
    # The job as OpenAI received it: supervised, linked to the dataset version.
    (job,) = fake.jobs()
    assert job["method"]["type"] == "supervised" and job["model"] == BASE_MODEL
    assert job["metadata"] == {"voiceloop_run": str(run.id), "voiceloop_dataset": run.dataset_id}
    assert job["suffix"] == f"voiceloop-r{run.id}" and job["seed"] == 42
    uploads = [f for f in fake.files() if f["purpose"] == "fine-tune"]
    assert [f["filename"] for f in uploads] == ["train.jsonl", "validation.jsonl"]
    assert job["training_file"] == uploads[0]["id"]
    assert fake.calls("/v1/moderations")
    kinds = {e.kind for e in store.run_events(run.id)}
    assert {"status", "progress", "checkpoint", "log"} <= kinds
    assert done.metrics["train_loss"] == 0.62
    assert "fewer" in updates[-1].text
    # Provenance: deployment ← run ← dataset version ← replies and their votes.
    provenance = store.provenance(live.id)
    assert provenance.run is not None and provenance.run.id == run.id
    assert sum(provenance.replies.values()) == 40 and provenance.votes == 40
    # Advancing again changes nothing: promoted once.
    assert lifecycle.advance() == []
    assert [d.origin for d in store.deployments()] == ["promotion", "config"]


def test_two_starts_at_once_make_one_run(store: Store, fake: FakeOpenAI, tmp_path: Path) -> None:
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    preview = lifecycle.preview()
    assert preview.dataset is not None
    dataset_id = preview.dataset.id
    other = Store(store.path)
    second = make_lifecycle(other, fake, tmp_path / "datasets")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start(which: Lifecycle) -> None:
        barrier.wait()
        try:
            which.start(dataset_id, "U1")
            outcomes.append("started")
        except RunInFlightError:
            outcomes.append("refused")

    threads = [threading.Thread(target=start, args=(lc,)) for lc in (lifecycle, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "started"]
    assert len(store.runs()) == 1
    other.close()


def test_rollback_appends_a_row_restoring_the_previous_deployment(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    started(lifecycle)
    drive(lifecycle)
    restored = lifecycle.rollback("U1")
    assert restored.origin == "rollback" and restored.model == CHAT_MODEL
    assert store.prompt(restored.prompt_id).content == VOICE_GUIDE
    assert len(store.deployments()) == 3
    with pytest.raises(LifecycleError, match="no earlier deployment"):
        lifecycle.rollback("U1")
