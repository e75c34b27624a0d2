"""The gate's figures from its verdicts: win rate and its interval, flips, lengths, rules."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from storage import Evaluation, Outcome, Verdict

# Fewer prompts than this and the decision is noisy; the summary says so.
FEW_PROMPTS = 10
BOOTSTRAP_ROUNDS = 2000
_SCORE = {"win": 1.0, "tie": 0.5, "loss": 0.0}


def outcome_of(ab: Verdict, ba: Verdict) -> Outcome:
    """In `ab` the candidate is A, in `ba` it is B: a win or a loss counts
    only when both orders agree; anything else is a tie."""
    if ab.winner == "A" and ba.winner == "B":
        return "win"
    if ab.winner == "B" and ba.winner == "A":
        return "loss"
    return "tie"


def flipped(ab: Verdict, ba: Verdict) -> bool:
    """The judge changed its mind when the order changed (position bias)."""
    mirrored = {"A": "B", "B": "A", "tie": "tie"}
    return mirrored[ab.winner] != ba.winner


@dataclass(frozen=True)
class GateSummary:
    prompts: int
    wins: int
    losses: int
    ties: int
    win_rate: float
    win_rate_low: float
    win_rate_high: float
    flip_rate: float
    length_ratio: float  # candidate reply length over live reply length, mean
    rule_pass_candidate: float
    rule_pass_live: float

    def warnings(self) -> list[str]:
        if self.prompts == 0:
            return ["no held-out prompts to judge: the dataset version has no validation examples"]
        if self.prompts < FEW_PROMPTS:
            return [
                f"the decision rests on {self.prompts} prompts (fewer than {FEW_PROMPTS}): "
                "rate more replies for a firmer answer"
            ]
        return []

    def describe(self) -> str:
        return (
            f"win rate {self.win_rate:.0%} (95% interval {self.win_rate_low:.0%}–"
            f"{self.win_rate_high:.0%}) over {self.prompts} prompts "
            f"({self.wins} won, {self.ties} tied, {self.losses} lost); "
            f"style rules passed {self.rule_pass_candidate:.0%} vs {self.rule_pass_live:.0%} live; "
            f"judge flipped on {self.flip_rate:.0%}; replies {self.length_ratio:.2f}× as long"
        )


def summarize(evaluations: Sequence[Evaluation], seed: int = 0) -> GateSummary:
    n = len(evaluations)
    if n == 0:
        return GateSummary(0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    scores = np.array([_SCORE[e.outcome] for e in evaluations])
    low, high = bootstrap_interval(scores, seed)
    ratios = [len(e.candidate_reply) / max(1, len(e.live_reply)) for e in evaluations]
    return GateSummary(
        prompts=n,
        wins=sum(e.outcome == "win" for e in evaluations),
        losses=sum(e.outcome == "loss" for e in evaluations),
        ties=sum(e.outcome == "tie" for e in evaluations),
        win_rate=float(scores.mean()),
        win_rate_low=low,
        win_rate_high=high,
        flip_rate=sum(flipped(e.verdict_ab, e.verdict_ba) for e in evaluations) / n,
        length_ratio=sum(ratios) / n,
        rule_pass_candidate=sum(e.candidate_rules_ok for e in evaluations) / n,
        rule_pass_live=sum(e.live_rules_ok for e in evaluations) / n,
    )


def bootstrap_interval(scores: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean score (seeded, so the same
    verdicts always report the same interval)."""
    rng = np.random.default_rng(seed)
    samples = rng.choice(scores, size=(BOOTSTRAP_ROUNDS, len(scores)), replace=True)
    means = samples.mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))
