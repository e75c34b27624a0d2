"""The retrain flow that the bot and the CLI both call: ratings → dataset version.

Training, the evaluation gate and promotion join this flow as they land; it
knows nothing of Slack, so `/retrain` and `voiceloop retrain` behave the same.
"""

import threading
from dataclasses import dataclass
from pathlib import Path

from curation.dataset.build import BuildResult, build_dataset
from curation.dataset.pipeline import CurationConfig
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
