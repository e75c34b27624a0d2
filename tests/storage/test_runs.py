"""Runs, their events and the rules about deployments: one in flight, rollback as a stack."""

import pytest

from storage import (
    DatasetReplies,
    DatasetVersion,
    Reply,
    RunInFlightError,
    Store,
    deployments,
    record_dataset,
)


@pytest.fixture
def store() -> Store:
    store = Store(":memory:")
    prompt = store.ensure_prompt("short", "post_training")
    record_dataset(
        store,
        DatasetVersion(
            id="d1",
            path="/tmp/d1",
            base_model="gpt-4.1-mini-2025-04-14",
            prompt_id=prompt.id,
            train_examples=1,
            validation_examples=0,
            preference_pairs=0,
            train_tokens=10,
            validation_tokens=0,
            epochs=3,
            estimated_cost_usd=0.01,
        ),
    )
    return store


def test_one_run_in_flight_and_a_new_one_once_it_finished(store: Store) -> None:
    run = store.create_run("openai", "gpt-4.1-mini-2025-04-14", "d1", "U1")
    with pytest.raises(RunInFlightError, match=f"run #{run.id} is preparing") as refused:
        store.create_run("openai", "gpt-4.1-mini-2025-04-14", "d1", "U2")
    assert refused.value.run == run
    store.update_run(run.id, status="failed", error="nope")
    second = store.create_run("openai", "gpt-4.1-mini-2025-04-14", "d1", "U2")
    assert store.run_in_flight() == second
    assert [r.id for r in store.runs()] == [second.id, run.id]


def test_updates_are_compare_and_set(store: Store) -> None:
    run = store.create_run("openai", "m", "d1", "U1")
    moved = store.update_run(run.id, expect=("preparing",), status="submitted", job_id="j1")
    assert moved is not None and (moved.status, moved.job_id) == ("submitted", "j1")
    assert store.update_run(run.id, expect=("preparing",), status="failed") is None
    assert store.update_run(run.id, unchanged_since=run.updated_at, status="failed") is None
    assert store.update_run(run.id, metrics={"loss": 0.5}).metrics == {"loss": 0.5}  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="not a run column"):
        store.update_run(run.id, colour="red")
    statuses = [e.message for e in store.run_events(run.id) if e.kind == "status"]
    assert statuses == ["preparing", "submitted"]


def test_a_provider_event_is_recorded_once(store: Store) -> None:
    run = store.create_run("openai", "m", "d1", "U1")
    assert store.add_run_event(run.id, "progress", "step 1", {"loss": 1.0}, ref="ev1")
    assert not store.add_run_event(run.id, "progress", "step 1", {"loss": 1.0}, ref="ev1")
    assert store.add_run_event(run.id, "log", "no ref")
    assert store.add_run_event(run.id, "log", "no ref")
    assert [e.message for e in store.run_events(run.id)][1:] == ["step 1", "no ref", "no ref"]
    assert store.run_events(run.id, limit=1)[0].message == "no ref"


def test_promotion_happens_once_and_names_its_run_and_dataset(store: Store) -> None:
    config = store.deploy_configured("gpt-5-mini", "a long voice guide")
    run = store.create_run("openai", "m", "d1", "U1")
    store.update_run(run.id, status="evaluating", trained_model="ft:m:x")
    prompt_id = store.ensure_prompt("short", "post_training").id
    promoted = store.promote(run.id, model="ft:m:x", prompt_id=prompt_id, base_url=None, note="")
    assert promoted is not None
    assert (promoted.run_id, promoted.dataset_id, promoted.model) == (run.id, "d1", "ft:m:x")
    assert (
        store.promote(run.id, model="ft:m:x", prompt_id=prompt_id, base_url=None, note="") is None
    )
    assert store.live_deployment() == promoted
    assert store.rollback_target() == config


def test_rollback_walks_back_one_deployment_at_a_time(store: Store) -> None:
    first = store.deploy_configured("gpt-5-mini", "guide")
    second = store.deploy("ft:a", first.prompt_id, "promotion")
    third = store.deploy("ft:b", first.prompt_id, "promotion")
    back = store.rollback("to a")
    assert back is not None and (back.model, back.restores_id) == ("ft:a", second.id)
    back_again = store.rollback("to the guide")
    assert back_again is not None and back_again.restores_id == first.id
    assert store.rollback("nothing left") is None
    assert len(store.deployments()) == 5
    assert third.id in [d.id for d in store.deployments()]


def test_provenance_reaches_the_replies_votes_and_corrections(store: Store) -> None:
    for ts in ("1.0", "2.0"):
        store.save_reply(Reply(channel="C1", ts=ts, text="hi"))
        store.record_vote("C1", ts, "U1", 1, "reaction:+1")
    store.save_correction("C1", "2.0", "U2", "hello")
    store.record_dataset_replies(
        DatasetReplies.of("d1", {"train": ["C1/1.0"], "validation": ["C1/2.0"]})
    )
    store.record_dataset_replies(DatasetReplies.of("d1", {"train": ["C1/1.0"]}))
    prompt_id = store.ensure_prompt("short", "post_training").id
    deployment = store.deploy("ft:m", prompt_id, "promotion", dataset_id="d1")
    provenance = store.provenance(deployment.id)
    assert provenance.replies == {"train": 1, "validation": 1}
    assert (provenance.votes, provenance.corrections) == (1 + 1, 1)
    assert store.dataset_reply_keys("d1") == {"C1/1.0", "C1/2.0"}


@pytest.mark.parametrize("pause", [True, False])
def test_provenance_is_written_in_short_transactions_with_room_between(
    store: Store, pause: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process (the bot writing a vote before its ack) waits with
    # sleeps for the write lock: each batch must end, and leave a gap when
    # the store is told a bot shares it, so it gets in rather than wait for
    # the whole recording.
    store.pause_long_writes = pause
    pauses: list[float] = []
    monkeypatch.setattr("storage.deployments.time.sleep", pauses.append)
    commits: list[str] = []
    store.db.conn.set_trace_callback(
        lambda sql: commits.append(sql) if sql.strip() == "COMMIT" else None
    )
    changes = store.db.conn.total_changes
    keys = [f"C1/{i}.0" for i in range(2 * deployments.PROVENANCE_ROWS_PER_TRANSACTION + 1)]
    store.record_dataset_replies(DatasetReplies.of("d1", {"train": keys}))
    store.db.conn.set_trace_callback(None)
    assert len(commits) == 3
    assert pauses == ([deployments.PROVENANCE_PAUSE_SECONDS] * 2 if pause else [])
    assert store.db.conn.total_changes - changes == len(keys)
    assert store.dataset_reply_keys("d1") == set(keys)


def test_provenance_recorded_in_full_is_not_written_again_and_a_partial_one_is_completed(
    store: Store,
) -> None:
    keys = [f"C1/{i}.0" for i in range(5)]
    whole = DatasetReplies.of("d1", {"train": keys[:3], "validation": keys[3:]})
    store.record_dataset_replies(DatasetReplies.of("d1", {"train": keys[:3]}))  # cut short
    store.record_dataset_replies(whole)
    assert store.dataset_reply_keys("d1") == set(keys)
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    store.record_dataset_replies(whole)
    store.db.conn.set_trace_callback(None)
    assert not [sql for sql in statements if "INSERT" in sql or "BEGIN" in sql]
