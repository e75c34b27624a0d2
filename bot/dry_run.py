"""The retrain dry run: built in a spawned process, handed back as a small summary.

Curating a large history is CPU-bound Python: run on one of the bot's threads
it starves the HTTP server (acks wait on the GIL and on full garbage-collection
passes over the replies). A fresh process per dry run costs what `voiceloop
curate` costs to start, curates the same way (single-threaded, it may fork its
own workers as the CLI does) and gives its memory back when it exits. Only the
figures the card shows travel back, never the curated examples.
"""

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from bot.lifecycle import build_lifecycle
from bot.settings import Settings
from curation import RetrainPreview, RetrainRunningError
from storage import Store

T = TypeVar("T")


@dataclass(frozen=True)
class DryRun:
    """What the card, App Home and the CLI show before a run starts."""

    dataset_id: str | None  # None: nothing could be kept
    replies: int
    train_examples: int
    validation_examples: int
    tokens: int
    preference_pairs: int
    estimate: str
    base_model: str
    backend: str
    rejections: tuple[tuple[str, int], ...]  # the top reasons, most common first
    warnings: tuple[str, ...]

    @classmethod
    def of(cls, preview: RetrainPreview) -> "DryRun":
        curated = preview.build.curated
        return cls(
            dataset_id=preview.dataset.id if preview.dataset else None,
            replies=curated.replies,
            train_examples=len(curated.train),
            validation_examples=len(curated.validation),
            tokens=preview.tokens,
            preference_pairs=preview.preference_pairs,
            estimate=preview.estimate,
            base_model=preview.base_model,
            backend=preview.backend,
            rejections=tuple(preview.top_rejections()),
            warnings=tuple(preview.warnings),
        )


class DryRunWorker:
    """One dry run at a time, each in its own spawned process."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._busy = threading.Lock()

    def build(self) -> DryRun:
        """Blocks until the child is done; call it from a background thread."""
        return self._in_child(build_dry_run)

    def build_if_due(self) -> DryRun | None:
        """The scheduler's question, asked where its curation cannot slow the bot."""
        return self._in_child(build_dry_run_if_due)

    def _in_child(self, job: Callable[[Settings], T]) -> T:
        if not self._busy.acquire(blocking=False):
            raise RetrainRunningError
        try:
            # Spawn, not fork: the bot has threads (HTTP server, scheduler,
            # listeners) whose locks a forked child would inherit held.
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                return pool.submit(job, self._settings).result()
        finally:
            self._busy.release()


def build_dry_run(settings: Settings) -> DryRun:
    """In the child: build (or reuse) the dataset version and summarize it."""
    store = Store(settings.db)
    try:
        return DryRun.of(build_lifecycle(settings, store).preview())
    finally:
        store.close()


def build_dry_run_if_due(settings: Settings) -> DryRun | None:
    store = Store(settings.db)
    try:
        lifecycle = build_lifecycle(settings, store)
        return DryRun.of(lifecycle.preview()) if lifecycle.due() else None
    finally:
        store.close()
