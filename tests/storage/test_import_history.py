"""Store.import_history: batched writes that keep the rules and rewrite nothing unchanged."""

import sqlite3
from dataclasses import replace

import pytest

from storage import ChatTurn, ImportedChannel, Reply, Store, Vote

WHEN = "2024-03-01T00:00:00.000+00:00"


def imported(ts: str, text: str = "We ship in 3 days.", **fields: object) -> Reply:
    reply = Reply(
        channel="C1",
        ts=ts,
        text=text,
        thread_ts="100.000000",
        asked_by="U1",
        question="When do you ship?",
        context=(ChatTurn("user", "Hi"), ChatTurn("assistant", "Hello! Ask away.")),
        origin="import",
        created_at=WHEN,
    )
    return replace(reply, **fields)  # type: ignore[arg-type]


def vote(ts: str, user: str, value: int = 1, source: str = "reaction:+1") -> Vote:
    return Vote("C1", ts, user, value, source, WHEN)


def changes(store: Store) -> int:
    """Rows inserted, updated or deleted on the store's connection so far."""
    with store.reading() as db:
        return db.conn.total_changes


def test_rerun_of_the_same_export_adds_nothing_and_rewrites_nothing() -> None:
    store = Store(":memory:")
    replies = [imported("101.000000"), imported("102.000000", context=())]
    votes = [vote("101.000000", "U1"), vote("101.000000", "U2", -1, "reaction:-1")]
    assert store.import_history(replies, votes) == (2, 2)
    before, written = (list(store.replies()), store.votes()), changes(store)
    assert store.import_history(replies, votes) == (0, 0)
    assert changes(store) == written
    assert (list(store.replies()), store.votes()) == before


def test_a_newer_export_refreshes_only_the_imported_rows_that_changed() -> None:
    store = Store(":memory:")
    store.import_history(
        [imported("101.000000"), imported("102.000000")],
        [vote("101.000000", "U1"), vote("102.000000", "U1")],
    )
    written = changes(store)
    newer = [imported("101.000000", text="We ship in 2 days."), imported("102.000000")]
    votes = [
        vote("101.000000", "U1"),
        vote("102.000000", "U1", -1, "reaction:-1"),  # changed their mind
        vote("102.000000", "U2"),  # new
    ]
    assert store.import_history(newer, votes) == (0, 1)
    assert changes(store) == written + 3  # one reply, one vote changed, one vote added
    refreshed = store.reply("C1", "101.000000")
    assert refreshed is not None and refreshed.text == "We ship in 2 days."
    assert {(v.ts, v.user): v.value for v in store.votes()} == {
        ("101.000000", "U1"): 1,
        ("102.000000", "U1"): -1,
        ("102.000000", "U2"): 1,
    }


def test_live_replies_and_their_recorded_votes_are_left_alone() -> None:
    store = Store(":memory:")
    live = Reply(channel="C1", ts="101.000000", text="Live text.", question="Q?", model="m")
    store.save_reply(live)
    store.record_vote("C1", "101.000000", "U1", -1, "feedback_button")
    before = store.reply("C1", "101.000000")
    written = changes(store)
    new_replies, new_votes = store.import_history(
        [imported("101.000000", text="Exported text.")],
        [vote("101.000000", "U1", 1), vote("101.000000", "U2", 1)],
    )
    assert (new_replies, new_votes) == (0, 1)
    assert changes(store) == written + 1  # only the missing vote
    assert store.reply("C1", "101.000000") == before
    assert {v.user: (v.value, v.source) for v in store.votes()} == {
        "U1": (-1, "feedback_button"),
        "U2": (1, "reaction:+1"),
    }


def test_a_vote_on_a_live_reply_the_export_does_not_hold_is_kept_too() -> None:
    store = Store(":memory:")
    store.save_reply(Reply(channel="C1", ts="101.000000", text="Live text."))
    store.record_vote("C1", "101.000000", "U1", -1, "feedback_button")
    assert store.import_history([], [vote("101.000000", "U1", 1)]) == (0, 0)
    assert [(v.value, v.source) for v in store.votes()] == [(-1, "feedback_button")]


def test_the_last_of_repeated_rows_wins_and_counts_once() -> None:
    store = Store(":memory:")
    replies = [imported("101.000000", text="First."), imported("101.000000", text="Second.")]
    votes = [vote("101.000000", "U1", 1), vote("101.000000", "U1", -1, "reaction:-1")]
    assert store.import_history(replies, votes) == (1, 1)
    stored = store.reply("C1", "101.000000")
    assert stored is not None and stored.text == "Second."
    assert [v.value for v in store.votes()] == [-1]


def test_an_import_that_fails_writes_nothing_of_it() -> None:
    store = Store(":memory:")
    store.import_history([imported("101.000000")], [])
    orphan = Vote("C9", "9.9", "U1", 1, "reaction:+1", WHEN)  # its reply does not exist
    with pytest.raises(sqlite3.IntegrityError):
        store.import_history([imported("101.000000", text="Changed."), imported("102.0")], [orphan])
    stored = store.reply("C1", "101.000000")
    assert stored is not None and stored.text == "We ship in 3 days."
    assert [r.ts for r in store.replies()] == ["101.000000"]
    assert store.votes() == []


def channel(name: str, files: str = "f1") -> ImportedChannel:
    return ImportedChannel(name, files, "s1", replies=2, votes=1, imported_at=WHEN)


def test_what_was_read_of_each_channel_is_recorded_with_its_rows_and_replaced_later() -> None:
    store = Store(":memory:")
    assert store.imported_channels() == {}
    store.import_history([imported("101.000000")], [], [channel("C1"), channel("C2")])
    assert store.imported_channels() == {"C1": channel("C1"), "C2": channel("C2")}
    store.import_history([], [], [channel("C2", files="f2")])
    assert store.imported_channels() == {"C1": channel("C1"), "C2": channel("C2", files="f2")}


def test_an_import_that_fails_records_no_channel_as_read() -> None:
    store = Store(":memory:")
    orphan = Vote("C9", "9.9", "U1", 1, "reaction:+1", WHEN)
    with pytest.raises(sqlite3.IntegrityError):
        store.import_history([imported("101.000000")], [orphan], [channel("C1")])
    assert store.imported_channels() == {}
