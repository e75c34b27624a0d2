"""Each person's verdicts apply in Slack's event order, whatever order they arrive in."""

import itertools
import random
import threading

import pytest

from storage import Reply, Store, VoteEvent
from storage.vote_events import replay

UP = VoteEvent("reaction:+1", 1, "1700000001.000100")
DOWN = VoteEvent("reaction:-1", -1, "1700000001.000200")
UNDO_UP = VoteEvent("reaction:+1", None, "1700000001.000300")


def test_replay_is_the_same_for_every_arrival_order() -> None:
    for order in itertools.permutations([UP, DOWN, UNDO_UP]):
        assert replay(list(order)) == DOWN


def test_removing_the_latest_reaction_leaves_no_vote() -> None:
    undo_down = VoteEvent("reaction:-1", None, "1700000001.000300")
    assert replay([UP, DOWN, undo_down]) is None
    assert replay([undo_down, DOWN]) is None


def test_times_compare_as_numbers_not_text() -> None:
    early = VoteEvent("reaction:+1", 1, "999999999.900000")
    late = VoteEvent("reaction:-1", -1, "1000000000.1")
    assert replay([late, early]) == late


def reply_store(path: str = ":memory:") -> Store:
    store = Store(path)
    store.save_reply(Reply(channel="C1", ts="1.000001", text="Hi!"))
    return store


def apply(store: Store, verdict: VoteEvent) -> None:
    if verdict.value is None:
        store.remove_vote("C1", "1.000001", "U1", verdict.source, event_ts=verdict.event_ts)
    else:
        store.record_vote(
            "C1", "1.000001", "U1", verdict.value, verdict.source, event_ts=verdict.event_ts
        )


@pytest.mark.parametrize("order", list(itertools.permutations([UP, DOWN, UNDO_UP])))
def test_the_stored_vote_follows_event_time(order: tuple[VoteEvent, ...]) -> None:
    store = reply_store()
    for verdict in order:
        apply(store, verdict)
    [vote] = store.votes()
    assert (vote.value, vote.source, vote.event_ts) == (-1, "reaction:-1", DOWN.event_ts)


def test_an_older_removal_arriving_last_changes_nothing() -> None:
    store = reply_store()
    apply(store, VoteEvent("reaction:+1", 1, "1700000002.000000"))
    apply(store, VoteEvent("reaction:+1", None, "1700000001.000000"))
    assert [v.value for v in store.votes()] == [1]


def test_a_redelivered_verdict_changes_nothing() -> None:
    store = reply_store()
    for verdict in [UP, DOWN, UNDO_UP, DOWN, UP]:
        apply(store, verdict)
    assert [v.value for v in store.votes()] == [-1]


def test_a_vote_from_before_the_log_counts_as_the_oldest_verdict() -> None:
    store = reply_store()
    store.db.table("votes").insert(
        {
            "channel": "C1",
            "ts": "1.000001",
            "user": "U1",
            "value": 1,
            "source": "reaction:+1",
            "updated_at": "2026-01-01T00:00:00.000+00:00",
        }
    )
    apply(store, VoteEvent("reaction:+1", None, "1700000001.000000"))
    assert store.votes() == []


def test_concurrent_shuffled_deliveries_end_in_the_right_vote() -> None:
    # Threads on one store, as Bolt's pool runs listeners; repeated because a
    # race shows only sometimes.
    rng = random.Random(8)
    store = reply_store()
    for _round in range(20):
        store.db.execute("DELETE FROM votes")
        store.db.execute("DELETE FROM vote_events")
        order = [UP, DOWN, UNDO_UP]
        rng.shuffle(order)
        start = threading.Barrier(len(order))

        def deliver(verdict: VoteEvent, start: threading.Barrier) -> None:
            start.wait()
            apply(store, verdict)

        threads = [threading.Thread(target=deliver, args=(v, start)) for v in order]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [(v.value, v.source) for v in store.votes()] == [(-1, "reaction:-1")]
