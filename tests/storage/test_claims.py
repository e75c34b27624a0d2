"""A message's claim: claimed -> answered, released or expired work is redone."""

from datetime import UTC, datetime, timedelta

from storage import Reply, Store
from storage.clock import now

FRESH = timedelta(minutes=2)


def claim(store: Store, worker: str = "bot:1", expires: timedelta = FRESH) -> bool:
    found = store.claim_message(
        "C1", "100.000001", worker=worker, user="U1", text="hi", expires_after=expires
    )
    return found is not None


def test_a_message_is_claimed_once_while_the_claim_is_fresh() -> None:
    store = Store(":memory:")
    assert claim(store)
    assert not claim(store, worker="bot:2")
    found = store.claim("C1", "100.000001")
    assert found is not None
    assert (found.state, found.claimed_by, found.attempts, found.text) == (
        "claimed",
        "bot:1",
        1,
        "hi",
    )


def test_an_answered_claim_is_never_taken_again() -> None:
    store = Store(":memory:")
    assert claim(store)
    reply = Reply(channel="C1", ts="100.000002", text="Hello!", thread_ts="100.000001")
    store.mark_answered("C1", "100.000001", "100.000002", reply)
    assert not claim(store, worker="bot:2", expires=timedelta(0))
    done = store.claim("C1", "100.000001")
    assert done is not None and done.state == "answered" and done.reply_ts == "100.000002"
    assert done.answered_at is not None
    assert store.reply("C1", "100.000002") is not None


def test_released_work_is_taken_over_with_its_placeholder() -> None:
    store = Store(":memory:")
    assert claim(store)
    store.set_placeholder("C1", "100.000001", "100.000002")
    store.release_claim("C1", "100.000001", "bot:1")
    assert claim(store, worker="bot:2")
    redo = store.claim("C1", "100.000001")
    assert redo is not None
    assert (redo.claimed_by, redo.attempts, redo.placeholder_ts) == ("bot:2", 2, "100.000002")


def test_an_expired_claim_is_taken_over() -> None:
    store = Store(":memory:")
    assert claim(store)
    assert claim(store, worker="bot:2", expires=timedelta(0))


def test_a_claim_is_stamped_as_every_table_stamps_its_rows() -> None:
    # SQLite writes the claim's time; it must read as storage.clock.now() does.
    store = Store(":memory:")
    before = now()
    assert claim(store)
    found = store.claim("C1", "100.000001")
    assert found is not None
    assert len(found.claimed_at) == len(before) and found.claimed_at[-6:] == "+00:00"
    stamped = datetime.fromisoformat(found.claimed_at)
    assert stamped.tzinfo == UTC
    assert abs((stamped - datetime.fromisoformat(before)).total_seconds()) < 5


def test_a_claim_younger_than_its_expiry_is_kept() -> None:
    store = Store(":memory:")
    assert claim(store)
    assert not claim(store, worker="bot:2", expires=timedelta(seconds=30))
    assert claim(store, worker="bot:2", expires=timedelta(seconds=-1))


def test_only_the_holder_releases_a_claim() -> None:
    store = Store(":memory:")
    assert claim(store)
    store.release_claim("C1", "100.000001", "someone-else")
    assert not claim(store, worker="bot:2")


def test_unanswered_claims_of_others_are_listed_for_recovery() -> None:
    store = Store(":memory:")
    assert claim(store, worker="old-process")
    assert store.unanswered_claims(not_by="old-process", stale_after=FRESH) == []
    [left] = store.unanswered_claims(not_by="new-process", stale_after=FRESH)
    taken = store.take_over_claim(left, "new-process")
    assert taken is not None and taken.claimed_by == "new-process"
    # The snapshot is stale now: a second taker loses.
    assert store.take_over_claim(left, "third-process") is None


def test_answered_claims_are_pruned_with_old_events() -> None:
    store = Store(":memory:")
    assert claim(store)
    store.mark_answered("C1", "100.000001", "100.000002", None)
    store.db.execute("UPDATE claims SET answered_at = '2020-01-01T00:00:00.000+00:00'")
    assert store.prune_events() == 1
    assert store.claim("C1", "100.000001") is None
