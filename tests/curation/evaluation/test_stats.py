"""The gate's arithmetic: outcomes from both orders, flips, the interval, the decision."""

import numpy as np
import pytest

from curation.evaluation.gate import decide
from curation.evaluation.stats import bootstrap_interval, flipped, outcome_of, summarize
from storage import Evaluation, Verdict

A, B, TIE = Verdict("A", ""), Verdict("B", ""), Verdict("tie", "")


@pytest.mark.parametrize(
    ("ab", "ba", "outcome", "flip"),
    [
        (A, B, "win", False),  # candidate first, then second: it won both times
        (B, A, "loss", False),
        (A, A, "tie", True),  # the judge always picked the first reply
        (B, B, "tie", True),
        (TIE, TIE, "tie", False),
        (A, TIE, "tie", True),
    ],
)
def test_a_win_counts_only_when_both_orders_agree(
    ab: Verdict, ba: Verdict, outcome: str, flip: bool
) -> None:
    assert outcome_of(ab, ba) == outcome
    assert flipped(ab, ba) is flip


def evaluation(
    outcome: str, candidate: str = "abcd", live: str = "ab", rules: tuple[bool, bool] = (True, True)
) -> Evaluation:
    verdicts = {"win": (A, B), "loss": (B, A), "tie": (A, A)}[outcome]
    return Evaluation(
        run_id=1,
        prompt_key=outcome,
        prompt="USER: hi",
        candidate_reply=candidate,
        live_reply=live,
        verdict_ab=verdicts[0],
        verdict_ba=verdicts[1],
        outcome=outcome,  # type: ignore[arg-type]
        candidate_rules_ok=rules[0],
        live_rules_ok=rules[1],
    )


def test_summary_counts_ties_half_and_reports_flips_and_lengths() -> None:
    summary = summarize(
        [evaluation("win"), evaluation("tie"), evaluation("loss", rules=(False, True))]
    )
    assert summary.win_rate == pytest.approx(0.5)
    assert (summary.wins, summary.ties, summary.losses) == (1, 1, 1)
    assert summary.flip_rate == pytest.approx(1 / 3)
    assert summary.length_ratio == pytest.approx(2.0)
    assert summary.rule_pass_candidate == pytest.approx(2 / 3)
    assert summary.rule_pass_live == 1.0
    assert summary.win_rate_low <= summary.win_rate <= summary.win_rate_high
    assert "3 prompts" in summary.warnings()[0]


def test_the_bootstrap_interval_narrows_with_more_prompts_and_is_repeatable() -> None:
    few = np.array([1.0, 0.0] * 5)
    many = np.array([1.0, 0.0] * 200)
    low_few, high_few = bootstrap_interval(few)
    low_many, high_many = bootstrap_interval(many)
    assert low_few < low_many < 0.5 < high_many < high_few
    assert bootstrap_interval(few) == (low_few, high_few)


def test_promotion_needs_the_win_rate_and_no_worse_rules() -> None:
    winning = summarize([evaluation("win")] * 12)
    assert decide(winning, 0.5)
    assert not decide(winning, 1.01)
    worse_rules = summarize([evaluation("win", rules=(False, True))] * 12)
    assert not decide(worse_rules, 0.5)
    assert not decide(summarize([]), 0.0)
    assert summarize([]).warnings() == [
        "no held-out prompts to judge: the dataset version has no validation examples"
    ]
