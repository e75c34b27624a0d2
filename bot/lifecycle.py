"""The retrain lifecycle built from settings, alike for the bot, its dry-run worker and the CLI."""

from bot.settings import Settings
from curation import Lifecycle, Runner, build_backend, run_here
from storage import Store


def build_lifecycle(settings: Settings, store: Store, writes: Runner = run_here) -> Lifecycle:
    """`writes` runs the database writes of dataset builds (curation.Runner)."""
    endpoints = settings.endpoints()
    backend = build_backend(settings.trainer_config(), endpoints)
    return Lifecycle(store, settings.lifecycle_config(), backend, endpoints, writes=writes)
