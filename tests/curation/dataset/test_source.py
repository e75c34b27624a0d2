"""Reading labeled replies: every reply with the ratings it received."""

from curation.dataset.source import labeled_replies
from storage import Reply, Store


def test_every_reply_comes_with_its_ratings() -> None:
    store = Store(":memory:")
    store.save_reply(Reply(channel="C1", ts="1.1", text="First.", created_at="2024-01-01"))
    store.save_reply(Reply(channel="C1", ts="1.2", text="Second.", created_at="2024-01-02"))
    store.record_vote("C1", "1.2", "U1", 1, "reaction:+1")
    store.save_correction("C1", "1.1", "U2", "Better first.")
    first, second = labeled_replies(store)
    assert (first.reply.text, first.votes, [c.text for c in first.corrections]) == (
        "First.",
        (),
        ["Better first."],
    )
    assert ([v.user for v in second.votes], second.corrections) == (["U1"], ())
