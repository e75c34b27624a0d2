"""/retrain's work: build a dataset version from the ratings and describe it for Slack."""

import threading
from dataclasses import dataclass
from pathlib import Path

from curation.build import BuildResult, build_dataset
from curation.pipeline import CurationConfig
from storage import Store


class RetrainRunningError(Exception):
    """A retrain is already running; one at a time keeps dataset versions coherent."""


@dataclass
class Retrainer:
    store: Store
    config: CurationConfig
    out_root: Path

    def __post_init__(self) -> None:
        self._running = threading.Lock()

    def run(self) -> BuildResult:
        if not self._running.acquire(blocking=False):
            raise RetrainRunningError
        try:
            return build_dataset(self.store, self.config, self.out_root)
        finally:
            self._running.release()


def summary(result: BuildResult) -> str:
    """The outcome in Slack mrkdwn: what was kept, what was not and why, the cost."""
    curated = result.curated
    lines = []
    if result.version is None:
        lines.append(
            f":warning: No training set yet: none of the {curated.replies:,} stored replies "
            "could be used. Rate or correct more replies, then run `/retrain` again."
        )
    else:
        version = result.version
        lines.append(f":white_check_mark: Training set `{version.id}` is ready.")
        lines.append(
            f"• *{len(curated.train):,}* training and *{len(curated.validation):,}* validation "
            f"examples ({curated.train_tokens + curated.validation_tokens:,} tokens), "
            f"{version.preference_pairs:,} preference pairs"
        )
        lines.append(f"• {curated.estimate.describe(curated.model.name).capitalize()}")
    if curated.rejections:
        top = list(curated.rejection_counts.items())[:5]
        reasons = ", ".join(f"{reason} ({count:,})" for reason, count in top)
        lines.append(f"• Not kept: {len(curated.rejections):,} ({reasons})")
    lines.extend(f"• :warning: {warning}" for warning in curated.warnings())
    if result.version is not None:
        lines.append(
            "Training runs are not part of this release yet: the files are in "
            f"`{result.version.path}` for a fine-tuning job."
        )
    return "\n".join(lines)
