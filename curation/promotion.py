"""Promotion and rollback: which trained model is live, and what is kept loaded for it."""

import logging

from curation.errors import LifecycleError
from curation.prompt_tokens import PromptTokens, prompt_tokens
from curation.redact import redact
from curation.training.backend import ModelServing, TrainingRefusedError
from storage import Deployment, Store, TrainingRun, dataset_version

log = logging.getLogger(__name__)


class Promotion:
    def __init__(self, store: Store, serving: ModelServing) -> None:
        self.store = store
        self.serving = serving

    def promote(
        self, run: TrainingRun, base_url: str | None, model: str, note: str
    ) -> Deployment | None:
        """Make a run's model live with the prompt it was trained with; None
        when another caller promoted it first. The serving side keeps the new
        model and the one it replaced (for an instant rollback)."""
        dataset = dataset_version(self.store, run.dataset_id)
        if dataset is None:
            raise TrainingRefusedError(f"dataset version {run.dataset_id} is no longer recorded")
        deployment = self.store.promote(
            run.id, model=model, prompt_id=dataset.prompt_id, base_url=base_url, note=note
        )
        if deployment is None:
            return None
        previous = self.store.rollback_target()
        keep = [run]
        if previous is not None and previous.run_id is not None:
            earlier = self.store.run(previous.run_id)
            keep += [earlier] if earlier else []
        try:
            self.serving.retire(keep)
        except Exception as e:  # retiring old models is housekeeping, never fatal
            log.warning("could not retire old models: %s", redact(str(e)))
        return deployment

    def rollback(self, by: str) -> Deployment:
        """Append a row restoring the deployment live before this one."""
        target = self.store.rollback_target()
        if target is not None and target.run_id is not None:
            run = self.store.run(target.run_id)
            if run is not None:
                self.serving.load(run)  # the local backend reloads its adapter
        restored = self.store.rollback(f"rolled back by {by}") if target else None
        if restored is None:
            raise LifecycleError("there is no earlier deployment to roll back to")
        return restored

    def prompt_tokens(self, deployment: Deployment) -> PromptTokens | None:
        """System-prompt tokens per reply of a trained deployment against the
        configured pair (the long voice guide) live before it; None while the
        configured pair is live."""
        if deployment.run_id is None:
            return None
        earlier = [
            d
            for d in self.store.deployments()
            if d.id < deployment.id and d.run_id is None and d.prompt_id != deployment.prompt_id
        ]
        return prompt_tokens(self.store, earlier[0], deployment) if earlier else None
