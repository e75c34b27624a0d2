"""Reading every reply with its votes and corrections out of the store."""

from collections import defaultdict

from curation.dataset.examples import LabeledReply
from storage import Correction, Store, Vote


def labeled_replies(store: Store) -> list[LabeledReply]:
    """All replies, oldest first, each with the ratings it received.

    Three table scans instead of a query per reply: curation reads everything.
    """
    votes: defaultdict[tuple[str, str], list[Vote]] = defaultdict(list)
    for vote in store.votes():
        votes[vote.channel, vote.ts].append(vote)
    corrections: defaultdict[tuple[str, str], list[Correction]] = defaultdict(list)
    for correction in store.corrections():
        corrections[correction.channel, correction.ts].append(correction)
    return [
        LabeledReply(
            reply,
            tuple(votes.get((reply.channel, reply.ts), ())),
            tuple(corrections.get((reply.channel, reply.ts), ())),
        )
        for reply in store.replies()
    ]
