"""Turning a reply's votes and corrections into one verdict: keep, hold out or drop."""

from dataclasses import dataclass
from typing import Literal

from curation.dataset.examples import LabeledReply
from curation.dataset.words import collapse_whitespace
from storage import Correction

# corrected: a team member wrote a better reply, which becomes the target.
# good: enough net votes. contested: the team disagrees, so it teaches nothing.
# bad: more down than up. below_threshold: some votes, not enough. unrated: none.
LabelKind = Literal["corrected", "good", "contested", "bad", "below_threshold", "unrated"]
KEPT_KINDS: frozenset[LabelKind] = frozenset({"corrected", "good"})


@dataclass(frozen=True)
class LabelPolicy:
    """How many votes make a reply good, and when a split vote means "contested"."""

    good_threshold: int = 1
    contested_share: float = 0.3


@dataclass(frozen=True)
class Label:
    kind: LabelKind
    up: int
    down: int

    @property
    def net(self) -> int:
        return self.up - self.down

    def reason(self, policy: LabelPolicy) -> str:
        """The rejection detail people read in the report."""
        votes = f"{self.up} up, {self.down} down"
        if self.kind == "contested":
            return f"{votes}: the minority side reaches {policy.contested_share:.0%}"
        if self.kind == "below_threshold":
            return f"{votes}: net {self.net} is below the threshold of {policy.good_threshold}"
        return votes


UNRATED = Label("unrated", 0, 0)


def label_reply(labeled: LabeledReply, policy: LabelPolicy) -> Label:
    # The store keeps one vote per (reply, user), so counts are distinct voters.
    up = down = 0
    for vote in labeled.votes:
        if vote.value > 0:
            up += 1
        elif vote.value < 0:
            down += 1
    if real_corrections(labeled):
        # A correction outranks any tally: someone wrote what the reply should
        # have been, and the original becomes the losing side of a preference pair.
        return Label("corrected", up, down)
    if up and down and min(up, down) / (up + down) >= policy.contested_share:
        return Label("contested", up, down)
    net = up - down
    if net >= policy.good_threshold:
        return Label("good", up, down)
    if net < 0:
        return Label("bad", up, down)
    if up or down:
        return Label("below_threshold", up, down)
    return UNRATED


def real_corrections(labeled: LabeledReply) -> list[Correction]:
    """Corrections that change more than whitespace; an unchanged submission
    is no verdict either way."""
    if not labeled.corrections:
        return []
    original = collapse_whitespace(labeled.reply.text)
    return [c for c in labeled.corrections if collapse_whitespace(c.text) != original]


def is_real_correction(original: str, suggested: str) -> bool:
    """An unchanged (or whitespace-only edited) submission is not a correction."""
    return collapse_whitespace(original) != collapse_whitespace(suggested)


def chosen_correction(corrections: list[Correction]) -> Correction:
    """The newest correction wins; the user id breaks ties so reruns agree."""
    return max(corrections, key=lambda c: (c.created_at, c.user))
