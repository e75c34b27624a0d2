"""Reading every reply with its votes and corrections out of the store."""

from curation.dataset.examples import LabeledReply
from storage import Store


def labeled_replies(store: Store) -> list[LabeledReply]:
    """All replies, oldest first, each with the ratings it received."""
    return store.rated_replies(LabeledReply)
