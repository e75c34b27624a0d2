"""The dataset pipeline as one pure function: labeled replies in, a curated dataset out.

Stages, in order: label, build the chat example, scrub personal data, check tone
and format, check the chat format, fit the token limit, drop repeats, split by
thread. Every reply that does not make it gets exactly one rejection reason;
older corrections that a newer one replaced are listed as well.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from curation.dataset.base_models import MIN_TRAINING_EXAMPLES, BaseModelFacts, base_model_facts
from curation.dataset.cost import TrainingEstimate, estimate_training
from curation.dataset.dedup import deduplicate
from curation.dataset.examples import Example, LabeledReply, Rejection
from curation.dataset.labels import LabelPolicy
from curation.dataset.preferences import PreferencePair, preference_pairs
from curation.dataset.rules import CurationRules
from curation.dataset.screening import ReplyScreen, Screened
from curation.dataset.split import split_by_thread

# Told to a progress callback as (stage, done, total), in this order.
Progress = Callable[[str, int, int], None]
SCREEN = "Checking replies"
DEDUP = "Dropping repeats"
SPLIT = "Splitting and pairing"
# Replies screened between progress reports: enough for a bar to move, few
# enough calls that they cost nothing.
PROGRESS_EVERY = 4_000


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
        # With nothing kept there is no thread to blame; the empty training set says it all.
        if self.validation_share > 0 and self.train and not self.validation:
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


def curate(
    replies: Iterable[LabeledReply], config: CurationConfig, progress: Progress | None = None
) -> CuratedDataset:
    """`progress`, when given, hears (stage, done, total) as the work goes on."""
    report = progress or _quiet
    replies = replies if isinstance(replies, Sequence) else list(replies)
    model = base_model_facts(config.base_model, config.rules.limits.max_example_tokens)
    screen = ReplyScreen(
        system_prompt=config.system_prompt,
        base_model=config.base_model,
        token_limit=model.example_token_limit,
        rules=config.rules,
        policy=config.policy,
    )
    total = len(replies)
    report(SCREEN, 0, total)
    screened: list[Screened] = []
    for start in range(0, total, PROGRESS_EVERY):
        screened += map(screen.screen, replies[start : start + PROGRESS_EVERY])
        report(SCREEN, min(start + PROGRESS_EVERY, total), total)
    candidates = [s for s in screened if s.example is not None]
    examples = [s.example for s in candidates if s.example is not None]
    # In report order: each reply's own reasons, in reply order; replies too
    # long even without context after those, as the token limit is the later stage.
    rejections = sorted(
        (r for s in screened for r in s.rejections), key=lambda r: r.reason == "too_long"
    )

    report(DEDUP, 0, 1)
    texts = [s.dedup_text for s in candidates]
    unique = deduplicate(examples, texts, config.rules.dedup.similarity)
    report(DEDUP, 1, 1)
    rejections += unique.rejected
    kept = sorted(unique.kept, key=lambda e: (e.created_at, e.key))
    report(SPLIT, 0, 1)
    thread_of = {e.key: e.thread for e in kept}
    linked = [(thread_of[a], thread_of[b]) for a, b in unique.related]
    train, validation = split_by_thread(kept, config.validation_share, linked)
    losers = [s.loser for s in screened if s.loser is not None]
    pairs, too_long_pairs = preference_pairs(
        kept, losers, model.example_token_limit, config.base_model
    )
    report(SPLIT, 1, 1)
    held = {e.key for e in validation}
    return CuratedDataset(
        model=model,
        replies=len(replies),
        labels=dict(Counter(s.label for s in screened).most_common()),
        train=train,
        validation=validation,
        train_pairs=[p for p in pairs if p.key not in held],
        validation_pairs=[p for p in pairs if p.key in held],
        rejections=rejections,
        scrubbed=dict(screen.scrubber.counts.most_common()),
        trimmed=sum(s.trimmed for s in candidates),
        pairs_too_long=too_long_pairs,
        estimate=estimate_training([e.tokens for e in train], model, config.epochs),
        validation_share=config.validation_share,
    )


def _quiet(stage: str, done: int, total: int) -> None:
    pass
