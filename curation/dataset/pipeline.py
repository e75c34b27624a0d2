"""The dataset pipeline as one pure function: labeled replies in, a curated dataset out.

Stages, in order: label, build the chat example, scrub personal data, check tone
and format, check the chat format, fit the token limit, drop repeats, split by
thread. Every reply that does not make it gets exactly one rejection reason;
older corrections that a newer one replaced are listed as well.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from curation.dataset.base_models import MIN_TRAINING_EXAMPLES, BaseModelFacts, base_model_facts
from curation.dataset.cost import TrainingEstimate, estimate_training
from curation.dataset.dedup import deduplicate
from curation.dataset.examples import Example, LabeledReply, Rejection
from curation.dataset.fanout import PARALLEL_FROM, WORKERS, screen_all
from curation.dataset.gc_pause import collector_paused
from curation.dataset.labels import LabelPolicy
from curation.dataset.preferences import PreferencePair, Prepared, preference_pairs
from curation.dataset.rules import CurationRules
from curation.dataset.screening import ReplyScreen, ScreenedChunk
from curation.dataset.split import split_by_thread

# Told to a progress callback as (stage, done, total), in this order.
Progress = Callable[[str, int, int], None]
SCREEN = "Checking replies"
DEDUP = "Dropping repeats"
SPLIT = "Splitting and pairing"


@dataclass(frozen=True)
class CurationConfig:
    """Everything curation needs, as values (the bot fills it from its settings)."""

    system_prompt: str
    base_model: str
    rules: CurationRules = field(default_factory=CurationRules)
    policy: LabelPolicy = field(default_factory=LabelPolicy)
    validation_share: float = 0.1
    epochs: int | None = None
    # Worker processes for the per-reply stages, from this many replies on;
    # the result is the same either way (see curation.dataset.fanout).
    workers: int = WORKERS
    parallel_from: int = PARALLEL_FROM


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
    # Each kept example's JSONL line by example key, made where it was built;
    # empty when keys repeat (curation.dataset.files then writes the lines).
    jsonl_lines: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

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


def curate(
    replies: Iterable[LabeledReply], config: CurationConfig, progress: Progress | None = None
) -> CuratedDataset:
    """`progress`, when given, hears (stage, done, total) as the work goes on."""
    with collector_paused():
        return _curate(replies, config, progress or _quiet)


def _curate(
    replies: Iterable[LabeledReply], config: CurationConfig, report: Progress
) -> CuratedDataset:
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
    screened = ScreenedChunk()
    for chunk in screen_all(
        replies,
        screen,
        lambda done: report(SCREEN, done, total),
        workers=config.workers,
        parallel_from=config.parallel_from,
    ):
        screened.extend(chunk)
    candidates = screened.examples

    report(DEDUP, 0, 1)
    keys = np.frombuffer(screened.sketches, dtype=np.uint64)
    keys = keys.reshape(len(candidates), screen.bands[0])
    unique = deduplicate(candidates, config.rules.dedup.similarity, screened.dedup_texts, keys)
    report(DEDUP, 1, 1)
    rejections = screened.rejections + screened.too_long + unique.rejected
    # Sort keys gathered first: no Python call per comparison key.
    kept = unique.kept
    order = sorted(range(len(kept)), key=[(e.created_at, e.key) for e in kept].__getitem__)
    kept = [kept[i] for i in order]
    report(SPLIT, 0, 1)
    positions = dict(zip([e.thread for e in candidates], screened.positions, strict=True))
    linked = []
    if unique.related:
        thread_of = {e.key: e.thread for e in kept}
        linked = [(thread_of[a], thread_of[b]) for a, b in unique.related]
    train, validation = split_by_thread(kept, config.validation_share, positions, linked)
    example_keys = [e.key for e in candidates]
    prepared = Prepared(
        target_tokens=dict(zip(example_keys, screened.target_tokens, strict=True)),
        rejected_tokens={
            e.key: tokens
            for e, tokens in zip(candidates, screened.rejected_tokens, strict=True)
            if e.rejected is not None
        },
        questions=dict(zip(example_keys, screened.questions, strict=True)),
    )
    pairs, too_long_pairs = preference_pairs(
        kept, screened.losers, model.example_token_limit, config.base_model, prepared
    )
    report(SPLIT, 1, 1)
    held = {e.key for e in validation}
    jsonl_lines = dict(zip(example_keys, screened.lines, strict=True))
    return CuratedDataset(
        model=model,
        replies=len(replies),
        labels=dict(screened.labels.most_common()),
        train=train,
        validation=validation,
        train_pairs=[p for p in pairs if p.key not in held],
        validation_pairs=[p for p in pairs if p.key in held],
        rejections=rejections,
        scrubbed=dict(screen.scrubber.counts.most_common()),
        trimmed=screened.trimmed,
        pairs_too_long=too_long_pairs,
        estimate=estimate_training([e.tokens for e in train], model, config.epochs),
        validation_share=config.validation_share,
        jsonl_lines=jsonl_lines if len(jsonl_lines) == len(candidates) else {},
    )


def _quiet(stage: str, done: int, total: int) -> None:
    pass
