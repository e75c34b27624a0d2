"""The retrain flow against the stateful fake OpenAI: train, gate, promote, hold, fail, resume."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from curation import Lifecycle, LifecycleError
from storage import RunInFlightError, Store, dataset_version
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
from tests.fakes.openai_api import DEFAULT_API_KEY, FakeOpenAI


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


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
    assert lifecycle.status().prompt_tokens is None  # the long guide is live again
    with pytest.raises(LifecycleError, match="no earlier deployment"):
        lifecycle.rollback("U1")


def test_a_failed_job_fails_the_run_with_the_providers_message(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.fail_jobs("Training file has 3 examples with invalid roles.")
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    run = started(lifecycle)
    updates = drive(lifecycle)

    failed = store.run(run.id)
    assert failed is not None and failed.status == "failed"
    assert failed.error is not None and "3 examples with invalid roles" in failed.error
    assert updates[-1].kind == "failed" and "live model is unchanged" in updates[-1].text
    live = store.live_deployment()
    assert live is not None and live.origin == "config"


def test_a_refused_job_fails_the_run_and_says_how_to_train_locally(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.refuse_jobs("This organization does not have access to fine-tuning.")
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    run = started(lifecycle)
    (update,) = drive(lifecycle)

    assert update.kind == "failed"
    assert "HTTP 403, This organization does not have access to fine-tuning" in update.text
    assert "VOICELOOP_TRAINER=local" in update.text
    assert fake.jobs() == []
    assert store.run(run.id).status == "failed"  # type: ignore[union-attr]
    assert DEFAULT_API_KEY not in update.text


def test_a_restart_mid_job_resumes_and_promotes_once(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.hold_jobs(3)
    first = make_lifecycle(store, fake, tmp_path / "datasets")
    run = started(first)
    first.advance()  # submitted
    first.advance()  # queued
    assert store.run(run.id).status == "running"  # type: ignore[union-attr]
    store.close()  # the bot is killed

    reopened = Store(tmp_path / "voiceloop.db")
    again = make_lifecycle(reopened, fake, tmp_path / "datasets")
    updates = drive(again)
    assert [u.kind for u in updates].count("promoted") == 1
    assert len(fake.jobs()) == 1
    assert [d.origin for d in reopened.deployments()] == ["promotion", "config"]
    # Events the fake returned again after the restart were recorded once.
    refs = [e.ref for e in reopened.run_events(run.id) if e.ref]
    assert len(refs) == len(set(refs))
    reopened.close()


def test_a_crash_after_the_job_was_created_adopts_that_job(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    run = started(lifecycle)
    dataset = dataset_version(store, run.dataset_id)
    assert dataset is not None
    # The job reached OpenAI, then the process died before recording it.
    lifecycle.backend.trainer.submit(run, dataset)
    assert store.run(run.id).job_id is None  # type: ignore[union-attr]

    drive(lifecycle)
    assert len(fake.jobs()) == 1
    assert store.run(run.id).status == "promoted"  # type: ignore[union-attr]


def test_a_judge_preferring_live_holds_the_run_and_promote_anyway_works(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.reply_with(answer_as("live"))
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    run = started(lifecycle)
    updates = drive(lifecycle)

    held = store.run(run.id)
    assert held is not None and held.status == "held" and held.decision == "hold"
    assert held.win_rate == 0.0
    assert updates[-1].kind == "held" and "promote it anyway" in updates[-1].text
    assert store.live_deployment().origin == "config"  # type: ignore[union-attr]
    evaluations = store.evaluations(run.id)
    assert evaluations and all(e.outcome == "loss" for e in evaluations)
    assert all(e.verdict_ab.winner == "B" and e.verdict_ba.winner == "A" for e in evaluations)

    deployment = lifecycle.promote_anyway(run.id, "U9")
    assert deployment.run_id == run.id and deployment.model == held.trained_model
    assert "promoted anyway by U9" in (deployment.note or "")
    with pytest.raises(LifecycleError, match="only a held run"):
        lifecycle.promote_anyway(run.id, "U9")


def test_a_judge_that_flips_with_the_order_counts_ties(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.reply_with(answer_as("first"))
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    run = started(lifecycle)
    drive(lifecycle)

    judged = store.run(run.id)
    assert judged is not None
    assert judged.flip_rate == 1.0 and judged.win_rate == 0.5
    # 0.5 reaches the default threshold of 0.5 and the rules pass alike.
    assert judged.status == "promoted"


def test_moderation_drops_flagged_examples_and_counts_them(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.flag_words("trip 3", "trip 4")
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    run = started(lifecycle)
    drive(lifecycle)

    notes = [e for e in store.run_events(run.id) if e.data.get("flagged")]
    assert notes and notes[0].data["flagged"] == 2
    uploaded = b"".join(
        fake.file_bytes(f["id"]) for f in fake.files() if f["purpose"] == "fine-tune"
    )
    assert b"trip 3," not in uploaded and b"trip 5," in uploaded


def test_a_moderation_outage_fails_the_run_before_anything_is_uploaded(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.fail_always(503, path="/v1/moderations")
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    run = started(lifecycle)
    (update,) = drive(lifecycle)

    assert update.kind == "failed" and "moderation check" in update.text
    assert "nothing was uploaded" in update.text
    assert fake.files() == [] and fake.jobs() == []
    assert store.run(run.id).status == "failed"  # type: ignore[union-attr]


def test_a_429_storm_while_polling_backs_off_and_the_run_carries_on(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    clock = FakeClock()
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets", clock=clock, poll_seconds=30)
    run = started(lifecycle)
    lifecycle.advance()  # submitted
    fake.fail_always(429, path=f"/v1/fine_tuning/jobs/{fake.jobs()[0]['id']}")
    (first,) = lifecycle.advance()
    assert "HTTP 429" in first.text and "trying again in 60 s" in first.text
    assert lifecycle.advance() == []  # waits: not due yet
    clock.tick(seconds=61)
    assert lifecycle.advance() == []  # the second failure in a row is not announced again
    backoffs = [e for e in store.run_events(run.id) if e.kind == "log" and "429" in e.message]
    assert [e.data["failures"] for e in backoffs] == [1, 2]
    assert "120 s" in backoffs[-1].message

    fake.recover()
    clock.tick(seconds=121)
    drive(lifecycle)
    assert store.run(run.id).status == "promoted"  # type: ignore[union-attr]


def test_a_run_past_the_job_timeout_fails_and_its_job_is_cancelled(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.hold_jobs(100)
    clock = FakeClock()
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets", clock=clock, job_timeout_hours=2)
    run = started(lifecycle)
    lifecycle.advance()
    lifecycle.advance()
    clock.tick(seconds=2 * 3600 + 1)
    (update,) = lifecycle.advance()

    assert update.kind == "failed" and "VOICELOOP_JOB_TIMEOUT_HOURS" in update.text
    assert fake.jobs()[0]["status"] == "cancelled"
    assert store.live_deployment().origin == "config"  # type: ignore[union-attr]
    assert store.run(run.id).status == "failed"  # type: ignore[union-attr]


def test_enough_preference_pairs_train_with_dpo(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    for i in range(12):
        store.save_correction(
            "C1", f"{1000 + i}.000100", "U2", f"Bring {i + 2} liters of water and a map, friend."
        )
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets", dpo_min_pairs=5)
    run = started(lifecycle)
    drive(lifecycle)

    (job,) = fake.jobs()
    assert job["method"]["type"] == "dpo"
    names = [f["filename"] for f in fake.files() if f["purpose"] == "fine-tune"]
    assert names[0] == "dpo_train.jsonl"
    assert store.run(run.id).status == "promoted"  # type: ignore[union-attr]


def test_cancel_stops_the_job_and_the_run(store: Store, fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.hold_jobs(10)
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    run = started(lifecycle)
    lifecycle.advance()
    cancelled = lifecycle.cancel(run.id, "U1")
    assert cancelled.status == "cancelled"
    assert fake.jobs()[0]["status"] == "cancelled"
    assert lifecycle.advance() == []
    with pytest.raises(LifecycleError, match="not in flight"):
        lifecycle.cancel(run.id, "U1")


def test_due_wants_enough_new_kept_examples_since_the_last_trained_dataset(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets", min_new_examples=10)
    assert lifecycle.due()  # 40 rated replies, nothing trained yet
    started(lifecycle)
    assert not lifecycle.due()  # a run is in flight
    drive(lifecycle)
    assert not lifecycle.due()  # nothing new since
    seed_ratings(store, 5, start=100)
    assert not lifecycle.due()
    seed_ratings(store, 5, start=200)
    assert lifecycle.due()


def test_status_shows_the_live_deployment_the_run_in_flight_and_warnings(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.hold_jobs(5)
    fake.set_shutdown_date(CHAT_MODEL, "2027-03-01")
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    run = started(lifecycle)
    lifecycle.advance()
    lifecycle.advance()
    status = lifecycle.status()
    assert status.in_flight is not None and status.in_flight.id == run.id
    assert status.events and status.events[-1].run_id == run.id
    assert any("2027-01-06" in w for w in status.warnings)
    assert any(f"live model {CHAT_MODEL} shuts down on 2027-03-01" in w for w in status.warnings)
    assert any(f"base model {BASE_MODEL} shuts down on 2027-01-14" in w for w in status.warnings)
    assert status.prompt_tokens is None

    drive(lifecycle)
    status = lifecycle.status()
    assert status.in_flight is None and status.last_run is not None
    assert status.last_evaluation is not None and status.last_evaluation.prompts > 0
    assert status.prompt_tokens is not None and status.prompt_tokens.reduction > 0.95


def test_a_refused_upload_fails_the_run_and_starts_no_job(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.fail_next(400, path="/v1/files")
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    run = started(lifecycle)
    (update,) = drive(lifecycle)

    assert update.kind == "failed"
    assert "OpenAI refused the upload of train.jsonl: HTTP 400" in update.text
    assert "VOICELOOP_TRAINER=local" in update.text
    assert fake.jobs() == []
    failed = store.run(run.id)
    assert failed is not None and failed.status == "failed"
    assert failed.error is not None and "refused the upload of train.jsonl" in failed.error


def test_a_429_storm_while_submitting_fails_the_run_before_training(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.fail_always(429, path="/v1/fine_tuning/jobs")
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    started(lifecycle)
    (update,) = drive(lifecycle)

    assert update.kind == "failed" and "HTTP 429" in update.text
    assert "nothing was trained, try again later" in update.text
    assert store.live_deployment().origin == "config"  # type: ignore[union-attr]


def test_an_outage_during_the_evaluation_resumes_where_it_stopped(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    clock = FakeClock()
    answer = answer_as("candidate")
    calls = 0

    def flaky(request: dict[str, object]) -> str:
        nonlocal calls
        calls += 1
        if calls == 10:  # two prompts judged (four calls each), the third half-way
            fake.fail_always(503, path="/v1/chat/completions")
        return answer(request)

    fake.reply_with(flaky)
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets", clock=clock)
    run = started(lifecycle)
    updates = drive(lifecycle, steps=6)
    paused = store.run(run.id)
    assert paused is not None and paused.status == "evaluating"
    assert "the evaluation stopped at prompt 3" in updates[-1].text
    assert len(store.evaluations(run.id)) == 2

    fake.recover()
    fake.reply_with(answer)
    clock.tick(seconds=3600)
    drive(lifecycle)
    done = store.run(run.id)
    assert done is not None and done.status == "promoted"
    prompts = len(store.evaluations(run.id))
    # The two judged before the outage were not asked again.
    assert calls == 10 and len(fake.chat_requests()) == 10 + 1 + 4 * (prompts - 2)
    judged = [e for e in store.run_events(run.id) if e.data.get("judged")]
    assert judged[-1].data == {"judged": prompts, "prompts": prompts}


def test_status_counts_the_examples_kept_since_the_last_run(
    store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    lifecycle = make_lifecycle(store, fake, tmp_path / "datasets")
    assert lifecycle.status().kept_since_last_run is None  # nothing curated yet
    preview = lifecycle.preview()
    assert preview.dataset is not None
    kept = len(preview.build.curated.train) + len(preview.build.curated.validation)
    status = lifecycle.status()
    assert status.kept_since_last_run == kept > 0  # no run yet: all of them are new
    assert status.kept_counted_at == preview.dataset.created_at
    lifecycle.start(preview.dataset.id, "U1")
    drive(lifecycle)
    assert lifecycle.status().kept_since_last_run == 0  # the run trained on all of them
    seed_ratings(store, 6, start=300)
    assert lifecycle.status().kept_since_last_run == 0  # not curated since
    lifecycle.preview()
    assert lifecycle.status().kept_since_last_run == 6
