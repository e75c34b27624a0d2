"""Serving local runs: each run's adapter loaded into the OpenAI-compatible server
under a name of its own (voiceloop-<run id>), checked in /v1/models before the
deployment may switch to it; the live and the previous adapter stay loaded, so a
rollback is instant, and older ones are unloaded."""

import logging
from dataclasses import dataclass

from curation.training.backend import TrainingRefusedError, TrainingUnavailableError
from curation.training.local.adapter_server import ADAPTER_PREFIX, AdapterServer, adapter_name
from storage import TrainingRun

log = logging.getLogger(__name__)


@dataclass
class VllmServing:
    adapters: AdapterServer
    base_url: str

    def load(self, run: TrainingRun) -> tuple[str | None, str]:
        """Raises TrainingRefusedError (the server refused the adapter) or
        TrainingUnavailableError (it could not be reached); either way nothing
        switched to it."""
        if not run.trained_model:
            raise TrainingRefusedError(f"run #{run.id} has no adapter to load")
        name = adapter_name(run.id)
        self.adapters.load(name, run.trained_model)
        return self.base_url, name

    def retire(self, keep: list[TrainingRun]) -> None:
        """Unload voiceloop's adapters other than `keep`'s; the base model and
        adapters someone else loaded stay. Retiring is tidying up: a failure is
        logged, and the next promotion tries again."""
        kept = {adapter_name(run.id) for run in keep}
        try:
            served = self.adapters.served_models()
            for name in served:
                if name.startswith(ADAPTER_PREFIX) and name not in kept:
                    self.adapters.unload(name)
        except (TrainingRefusedError, TrainingUnavailableError) as e:
            log.warning("could not unload old adapters: %s", e)
