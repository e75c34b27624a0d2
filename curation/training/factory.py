"""Picks the training backend from values, so the bot never imports a trainer it does not use."""

from curation.endpoints import Endpoints
from curation.training.backend import Backend
from curation.training.config import TrainerConfig


def build_backend(config: TrainerConfig, endpoints: Endpoints) -> Backend:
    """The backend for a trainer config: `openai` trains and serves at OpenAI."""
    # Imported here: the openai SDK is slow to import and the CLI's dataset
    # commands never train.
    from curation.training.openai_trainer import OpenAIServing, OpenAITrainer

    return Backend(OpenAITrainer(endpoints.client(), config), OpenAIServing())
