"""Picks the training backend from values, so the bot never imports a trainer it does not use."""

from curation.endpoints import Endpoints
from curation.training.backend import Backend
from curation.training.config import TrainerConfig
from curation.training.local.config import LocalTrainerConfig


def build_backend(config: TrainerConfig, endpoints: Endpoints) -> Backend:
    """The backend for a trainer config: `openai` trains and serves at OpenAI;
    `local` trains in a child process and serves from an OpenAI-compatible
    server's runtime LoRA API."""
    if isinstance(config, LocalTrainerConfig):
        from curation.training.local.adapter_server import AdapterServer
        from curation.training.local.serving import VllmServing
        from curation.training.local.trainer import LocalTrainer

        adapters = AdapterServer(endpoints.client(config.serve_base_url))
        return Backend(LocalTrainer(config), VllmServing(adapters, config.serve_base_url))
    # Imported here: the openai SDK is slow to import and the CLI's dataset
    # commands never train.
    from curation.training.openai_trainer import OpenAIServing, OpenAITrainer

    return Backend(OpenAITrainer(endpoints.client(), config), OpenAIServing())


def import_backends() -> None:
    """Imports every backend's modules now, which build_backend leaves until
    one is built (the openai SDK alone takes over half a second): for a
    process that forks workers later, so that each starts with them imported."""
    import curation.training.local.adapter_server
    import curation.training.local.serving
    import curation.training.local.trainer
    import curation.training.openai_trainer  # noqa: F401
