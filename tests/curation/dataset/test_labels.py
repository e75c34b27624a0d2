"""Votes and corrections to one verdict."""

import pytest

from curation.dataset.labels import LabelPolicy, chosen_correction, label_reply, real_corrections
from tests.curation.dataset.factories import labeled

POLICY = LabelPolicy(good_threshold=2, contested_share=0.3)


@pytest.mark.parametrize(
    ("up", "down", "kind"),
    [
        (0, 0, "unrated"),
        (1, 0, "below_threshold"),
        (2, 0, "good"),
        (5, 2, "good"),  # 2/7 = 29%, under the 30% share: a clear majority
        (7, 3, "contested"),  # 3/10 = 30%: the share is inclusive
        (1, 1, "contested"),
        (0, 1, "bad"),
        (1, 3, "bad"),  # 25%: not contested, and net negative
    ],
)
def test_vote_tallies(up: int, down: int, kind: str) -> None:
    label = label_reply(labeled(up=up, down=down), POLICY)
    assert label.kind == kind
    assert label.net == up - down


def test_a_correction_outranks_any_tally() -> None:
    label = label_reply(labeled(up=0, down=3, corrections=("A better reply.",)), POLICY)
    assert label.kind == "corrected"
    assert (label.up, label.down) == (0, 3)


def test_a_whitespace_only_correction_is_no_verdict() -> None:
    reply = labeled(text="Pack  layers.", up=0, down=1, corrections=(" Pack layers.\n",))
    assert real_corrections(reply) == []
    assert label_reply(reply, POLICY).kind == "bad"


def test_the_newest_correction_is_chosen() -> None:
    reply = labeled(corrections=("first try", "second try", "third try"))
    assert chosen_correction(real_corrections(reply)).text == "third try"


def test_rejection_detail_explains_the_numbers() -> None:
    below = label_reply(labeled(up=1), POLICY)
    assert below.reason(POLICY) == "1 up, 0 down: net 1 is below the threshold of 2"
    contested = label_reply(labeled(up=1, down=1), POLICY)
    assert "30%" in contested.reason(POLICY)
