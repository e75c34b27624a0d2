"""Typed reads and writes: idempotent on natural keys, latest vote wins."""

import json

import pytest

from storage import ChatTurn, Reply, Store, now
from tests.storage.rows import ids


def make_reply(store: Store, channel: str = "C1", ts: str = "100.1") -> Reply:
    reply = Reply(
        channel=channel,
        ts=ts,
        thread_ts="100.0",
        text="Happy trails!",
        question="Say hi",
        context=(ChatTurn("user", "earlier"), ChatTurn("assistant", "hello")),
        model="gpt-5-mini",
    )
    store.save_reply(reply)
    return reply


def test_reply_round_trips_with_its_context() -> None:
    store = Store(":memory:")
    make_reply(store)
    loaded = store.reply("C1", "100.1")
    assert loaded is not None
    assert loaded.context == (ChatTurn("user", "earlier"), ChatTurn("assistant", "hello"))
    assert loaded.created_at
    assert store.reply("C1", "nope") is None


def test_a_thread_context_with_data_after_it_is_refused_as_json_loads_refuses_it() -> None:
    store = Store(":memory:")
    make_reply(store)
    store.db.execute("UPDATE replies SET context = context || ' []'")
    with pytest.raises(json.JSONDecodeError, match="unexpected content after document"):
        store.reply("C1", "100.1")


def test_bot_in_thread() -> None:
    store = Store(":memory:")
    make_reply(store)
    assert store.bot_in_thread("C1", "100.0")
    assert not store.bot_in_thread("C1", "999.0")
    assert not store.bot_in_thread("C2", "100.0")


def test_latest_vote_wins_and_removal_only_undoes_its_own_source() -> None:
    store = Store(":memory:")
    make_reply(store)
    store.record_vote("C1", "100.1", "U1", 1, "reaction:+1")
    store.record_vote("C1", "100.1", "U1", -1, "reaction:x")
    assert [v.value for v in store.votes("C1", "100.1")] == [-1]
    assert not store.remove_vote("C1", "100.1", "U1", "reaction:+1")
    assert store.remove_vote("C1", "100.1", "U1", "reaction:x")
    assert store.votes() == []


def test_prompts_are_content_addressed_and_deployments_append() -> None:
    store = Store(":memory:")
    a = store.ensure_prompt("Be kind.", "voice_guide")
    b = store.ensure_prompt("Be kind.", "voice_guide")
    assert a.id == b.id
    assert store.live_deployment() is None
    first = store.deploy("gpt-5-mini", a.id, "config")
    second = store.deploy("ft:gpt-4.1-mini:acme::x", a.id, "promotion")
    assert store.live_deployment() == second
    assert ids(store, "deployments") == [first.id, second.id]


def test_correction_replaces_the_same_users_earlier_one() -> None:
    store = Store(":memory:")
    make_reply(store)
    store.save_correction("C1", "100.1", "U1", "first try")
    store.save_correction("C1", "100.1", "U1", "second try")
    assert [c.text for c in store.corrections("C1", "100.1")] == ["second try"]


def test_old_delivery_keys_are_pruned_and_recent_ones_kept() -> None:
    store = Store(":memory:")
    store.db.execute(
        "INSERT INTO events (key, received_at) VALUES ('old', '2020-01-01T00:00:00.000+00:00')"
    )
    store.db.execute("INSERT INTO events (key, received_at) VALUES ('recent', ?)", [now()])
    assert store.prune_events() == 1
    assert [row["key"] for row in store.db.table("events").rows] == ["recent"]


def test_rated_replies_hands_each_reply_its_own_votes_and_corrections_oldest_first() -> None:
    store = Store(":memory:")
    second = make_reply(store, ts="100.2")
    first = make_reply(store, ts="100.1")
    plain = Reply(channel="C2", ts="100.1", text="No thread.", created_at="2024-01-01")
    store.save_reply(plain)
    store.record_vote("C1", "100.1", "U1", 1, "reaction:+1")
    store.record_vote("C1", "100.2", "U1", -1, "reaction:-1")
    store.record_vote("C1", "100.1", "U2", -1, "feedback_button")
    store.save_correction("C1", "100.2", "U3", "Better.")
    rated = store.rated_replies(lambda reply, votes, corrections: (reply, votes, corrections))
    assert [(r.channel, r.ts) for r, _, _ in rated] == [
        ("C1", "100.2"),
        ("C1", "100.1"),
        ("C2", "100.1"),
    ]
    (reply_2, votes_2, corrections_2), (reply_1, votes_1, corrections_1), last = rated
    assert reply_2.context == second.context and reply_1.text == first.text
    assert [(v.user, v.value) for v in votes_1] == [("U1", 1), ("U2", -1)]
    assert [(v.user, v.value) for v in votes_2] == [("U1", -1)]
    assert corrections_1 == () and [c.text for c in corrections_2] == ["Better."]
    assert last == (plain, (), ())
    assert [r for r, _, _ in rated] == list(store.replies())
