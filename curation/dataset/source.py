"""Reading every reply with its votes and corrections out of the store."""

from curation.dataset.collector import cycle_collector_paused
from curation.dataset.examples import LabeledReply
from storage import Store


def labeled_replies(store: Store) -> list[LabeledReply]:
    """All replies, oldest first, each with the ratings it received."""
    # Five or so objects per reply, none in a cycle (see cycle_collector_paused).
    with cycle_collector_paused():
        return store.rated_replies(LabeledReply)
