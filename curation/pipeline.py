"""The dataset pipeline as one pure function: labeled replies in, a curated dataset out.

Stages, in order: label, build the chat example, scrub personal data, check tone
and format, check the chat format, fit the token limit, drop repeats, split by
thread. Every reply that does not make it gets exactly one rejection reason;
older corrections that a newer one replaced are listed as well.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from curation.base_models import BaseModelFacts, base_model_facts
from curation.chat_format import build_example, example_problems
from curation.cost import TrainingEstimate, estimate_training
from curation.dedup import deduplicate
from curation.examples import ChatMessage, Example, LabeledReply, Rejection
from curation.labels import (
    KEPT_KINDS,
    LabelPolicy,
    chosen_correction,
    label_reply,
    real_corrections,
)
from curation.limits import fit_examples
from curation.pii import Scrubber
from curation.preferences import PreferencePair, preference_pairs
from curation.rules import CurationRules
from curation.split import split_by_thread
from curation.style import StyleChecker

# OpenAI refuses a fine-tuning job with fewer training examples than this.
MIN_TRAINING_EXAMPLES = 10


@dataclass(frozen=True)
class CurationConfig:
    """Everything curation needs, as values (the bot fills it from its settings)."""

    system_prompt: str
    base_model: str
    rules: CurationRules = field(default_factory=CurationRules)
    policy: LabelPolicy = field(default_factory=LabelPolicy)
    validation_share: float = 0.1
    epochs: int | None = None


@dataclass(frozen=True)
class CuratedDataset:
    model: BaseModelFacts
    replies: int
    labels: dict[str, int]
    train: list[Example]
    validation: list[Example]
    train_pairs: list[PreferencePair]
    validation_pairs: list[PreferencePair]
    rejections: list[Rejection]
    scrubbed: dict[str, int]
    trimmed: int
    pairs_too_long: int
    estimate: TrainingEstimate
    validation_share: float

    @property
    def train_tokens(self) -> int:
        return sum(e.tokens for e in self.train)

    @property
    def validation_tokens(self) -> int:
        return sum(e.tokens for e in self.validation)

    @property
    def rejection_counts(self) -> dict[str, int]:
        return dict(Counter(r.reason for r in self.rejections).most_common())

    def warnings(self) -> list[str]:
        found = []
        if len(self.train) < MIN_TRAINING_EXAMPLES:
            found.append(
                f"{len(self.train)} training examples: OpenAI fine-tuning needs at least "
                f"{MIN_TRAINING_EXAMPLES}; rate or correct more replies"
            )
        if self.validation_share > 0 and not self.validation:
            found.append("no validation examples: every kept reply is in one thread")
        return found

    def report(self) -> dict[str, object]:
        """The whole story of this dataset, written next to it as report.json."""
        return {
            "base_model": self.model.name,
            "example_token_limit": self.model.example_token_limit,
            "replies": self.replies,
            "labels": self.labels,
            "examples": {"train": len(self.train), "validation": len(self.validation)},
            "preference_pairs": {
                "train": len(self.train_pairs),
                "validation": len(self.validation_pairs),
                "too_long": self.pairs_too_long,
            },
            "tokens": {"train": self.train_tokens, "validation": self.validation_tokens},
            "estimate": self.estimate.as_json(),
            "scrubbed": self.scrubbed,
            "context_trimmed": self.trimmed,
            "warnings": self.warnings(),
            "rejections": {
                "counts": self.rejection_counts,
                "replies": [r.as_json() for r in self.rejections],
            },
        }


def curate(replies: Iterable[LabeledReply], config: CurationConfig) -> CuratedDataset:
    model = base_model_facts(config.base_model, config.rules.limits.max_example_tokens)
    rejections: list[Rejection] = []
    labels: Counter[str] = Counter()
    scrubber = Scrubber.with_extra(config.rules.pii)
    style = StyleChecker(config.rules)
    candidates: list[Example] = []
    # Replies voted bad: the losing side of a pair when a kept reply answered
    # the same prompt.
    losers: list[Example] = []
    total = 0
    for labeled in replies:
        total += 1
        label = label_reply(labeled, config.policy)
        labels[label.kind] += 1
        if label.kind not in KEPT_KINDS:
            rejections.append(Rejection(labeled.key, label.kind, label.reason(config.policy)))
            if label.kind == "bad":
                loser = build_example(labeled, label, config.system_prompt)
                if isinstance(loser, Example):
                    losers.append(_scrubbed(loser, scrubber))
            continue
        rejections += _superseded(labeled)
        built = build_example(labeled, label, config.system_prompt)
        if isinstance(built, Rejection):
            rejections.append(built)
            continue
        example = _scrubbed(built, scrubber)
        violations = style.violations(example.target)
        if violations:
            detail = "; ".join(v.detail for v in violations)
            rejections.append(Rejection(example.key, f"style:{violations[0].rule}", detail))
            continue
        problems = example_problems(example)
        if problems:
            rejections.append(Rejection(example.key, "invalid_format", "; ".join(problems)))
            continue
        candidates.append(example)

    fitted, trimmed = fit_examples(candidates, model.example_token_limit, config.base_model)
    unique = deduplicate(fitted.kept, config.rules.dedup.similarity)
    rejections += fitted.rejected + unique.rejected
    kept = sorted(unique.kept, key=lambda e: (e.created_at, e.key))
    train, validation = split_by_thread(kept, config.validation_share)
    pairs, too_long = preference_pairs(kept, losers, model.example_token_limit, config.base_model)
    held = {e.key for e in validation}
    return CuratedDataset(
        model=model,
        replies=total,
        labels=dict(labels.most_common()),
        train=train,
        validation=validation,
        train_pairs=[p for p in pairs if p.key not in held],
        validation_pairs=[p for p in pairs if p.key in held],
        rejections=rejections,
        scrubbed=dict(scrubber.counts.most_common()),
        trimmed=trimmed,
        pairs_too_long=too_long,
        estimate=estimate_training([e.tokens for e in train], model, config.epochs),
        validation_share=config.validation_share,
    )


def _superseded(labeled: LabeledReply) -> list[Rejection]:
    corrections = real_corrections(labeled)
    if len(corrections) < 2:
        return []
    chosen = chosen_correction(corrections)
    return [
        Rejection(labeled.key, "superseded_correction", f"by {c.user}; a newer one is used")
        for c in corrections
        if c is not chosen
    ]


def _scrubbed(example: Example, scrubber: Scrubber) -> Example:
    # The system prompt is the team's own text; everything else came from Slack.
    messages = example.messages[:1] + tuple(
        ChatMessage(m.role, scrubber.scrub(m.content), m.weight) for m in example.messages[1:]
    )
    rejected = None if example.rejected is None else scrubber.scrub(example.rejected)
    return replace(example, messages=messages, rejected=rejected)
